/** The yolo head's objective: the YOLOv8/11 loss (train/yolo-loss.ts) on padded box targets. */
import type { Detect } from '../../models/heads/detect.js';
import type { Batch } from '../loader.js';
import { yoloLoss } from '../yolo-loss.js';
import { registerObjective, resolveGains } from './objective.js';
import * as F from '../../engine/functional.js';
import { distillerFor } from '../distill/distiller.js';

/** Targets are padded to a fixed box count so one compiled graph serves every batch. */
export const MAX_BOXES = 64;

function paddedTargets(batch: Batch): Float32Array {
  const n = batch.files.length;
  const out = new Float32Array(n * MAX_BOXES * 6);
  const rows = Math.min(batch.maxBoxes, MAX_BOXES);
  for (let k = 0; k < n; k++) {
    out.set(batch.targets.subarray(k * batch.maxBoxes * 6, (k * batch.maxBoxes + rows) * 6), k * MAX_BOXES * 6);
  }
  return out;
}

registerObjective(
  'yolo',
  (model, { distill, gains: over }) => {
    const nc = model.config.nc;
    const gains = resolveGains<{ box: number; cls: number; dfl: number }>('yolo', over);
    const distiller = distill?.dense.length ? distillerFor('yolo') : null;
    return {
      loss(g, m, images, batch) {
        const t = g.input('targets', [batch, MAX_BOXES, 6]);
        const head = m.head as Detect;
        const levels = head.levels(m.features(images));
        const classMask = distill?.classMask ? g.input('class_mask', [batch, 1, nc]) : undefined;
        const r = yoloLoss(g, levels, t, { nc, strides: m.outputStrides, gains, ...(classMask ? { classMask } : {}) });
        if (!distiller || !distill) return { loss: r.loss, terms: r.terms };
        const kd = distiller.loss(g, m, levels, batch, distill);
        return { loss: F.add(r.loss, kd.loss), terms: { ...r.terms, ...kd.terms } };
      },
      feeds: (batch) => ({
        targets: { dtype: 'float32', shape: [batch.files.length, MAX_BOXES, 6], data: paddedTargets(batch) },
      }),
      // Each term held at about what Ultralytics' gains make of it mid-training, per image.
      adaptive: { targets: { box: 3, cls: 1, dfl: 1.5, ...distillerFor('yolo')?.targets }, perImage: true },
    };
  },
  // Ultralytics' hyp.scratch gains.
  { box: 7.5, cls: 0.5, dfl: 1.5 },
);
