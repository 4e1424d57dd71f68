/** The centernet head's objective: centerX's targets (train/centernet-targets.ts) and losses (centernet-loss.ts). */
import type { CenterNetHead } from '../../models/heads/centernet.js';
import type { Feed } from '../../runtime/session.js';
import { centernetLoss, centernetTargetInputs } from '../centernet-loss.js';
import { centernetTargets } from '../centernet-targets.js';
import { registerObjective, resolveGains } from './objective.js';
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { distillerFor } from '../distill/distiller.js';

registerObjective(
  'centernet',
  (model, { imgsz, distill, gains: over }) => {
    const nc = model.config.nc;
    const gains = resolveGains<{ hm: number; wh: number; reg: number }>('centernet', over);
    const distiller = distill?.dense.length ? distillerFor('centernet') : null;
    return {
      loss(g, m, images, batch) {
        const maps = (m.head as CenterNetHead).maps(m.features(images)[0]!);
        const [, , h, w] = maps.cls.shape as [number, number, number, number];
        const classMask = distill?.classMask ? g.input('class_mask', [batch, nc, 1, 1]) : undefined;
        const r = centernetLoss(maps, centernetTargetInputs(g, batch, nc, h, w), {
          gains,
          ...(classMask ? { classMask } : {}),
        });
        if (!distiller || !distill) return { loss: r.loss, terms: r.terms };
        const kd = distiller.loss(g, m, maps as unknown as Record<string, Tensor>, batch, distill);
        return { loss: F.add(r.loss, kd.loss), terms: { ...r.terms, ...kd.terms } };
      },
      feeds(batch) {
        const n = batch.files.length;
        const t = centernetTargets(batch.targets, n, batch.maxBoxes, nc, imgsz);
        const [h, w] = t.size;
        const f = (data: Float32Array, c: number): Feed => ({ dtype: 'float32', shape: [n, c, h, w], data });
        return {
          heatmap: f(t.heatmap, nc),
          centers: f(t.centers, nc),
          wh: f(t.wh, 2),
          reg: f(t.reg, 2),
          mask: f(t.mask, 1),
        };
      },
      // centerX's communism targets: cls 1.5, wh 0.3, off 0.1 (its distillation terms the same by kind).
      adaptive: { targets: { hm: 1.5, wh: 0.3, reg: 0.1, ...distillerFor('centernet')?.targets }, perImage: false },
    };
  },
  // centerX's: hm_weight 1, wh_weight 0.1, off_weight 1.
  { hm: 1, wh: 0.1, reg: 1 },
);
