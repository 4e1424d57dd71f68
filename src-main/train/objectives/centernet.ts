/** The centernet head's objective: centerX's targets (train/centernet-targets.ts) and losses (centernet-loss.ts). */
import type { CenterNetHead } from '../../models/heads/centernet.js';
import type { Feed } from '../../runtime/session.js';
import { centernetLoss, centernetTargetInputs } from '../centernet-loss.js';
import { centernetTargets } from '../centernet-targets.js';
import { registerObjective } from './objective.js';

registerObjective('centernet', (model, { imgsz }) => {
  const nc = model.config.nc;
  return {
    loss(g, m, images, batch) {
      const maps = (m.head as CenterNetHead).maps(m.features(images)[0]!);
      const [, , h, w] = maps.cls.shape as [number, number, number, number];
      const r = centernetLoss(maps, centernetTargetInputs(g, batch, nc, h, w));
      return { loss: r.loss, terms: r.terms };
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
  };
});
