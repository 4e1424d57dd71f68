/** The yolo head's objective: the YOLOv8/11 loss (train/yolo-loss.ts) on padded box targets. */
import type { Detect } from '../../models/heads/detect.js';
import type { Batch } from '../loader.js';
import { yoloLoss } from '../yolo-loss.js';
import { registerObjective, resolveGains } from './objective.js';
import * as F from '../../engine/functional.js';
import { distillerFor } from '../distill/distiller.js';

/** The padded box count a graph built without dims has (benches and tests that feed their own targets). */
export const MAX_BOXES = 64;

/**
 * The padded box counts graphs are compiled for. The assignment is dense over batch x boxes x anchors, so a batch
 * is padded to the smallest bucket that holds its fullest image, not to the largest: 8 boxes instead of 64 cut
 * the loss's share of the step (bench:train). A few graphs serve every batch.
 */
export const BOX_BUCKETS = [8, 16, 32, 64, 128, 256] as const;

/** The bucket for a batch whose fullest image has `maxBoxes` boxes (the largest, past it: see `paddedTargets`). */
export function boxBucket(maxBoxes: number): number {
  return BOX_BUCKETS.find((b) => b >= maxBoxes) ?? BOX_BUCKETS.at(-1)!;
}

let warnedTruncation = false;

/** The batch's targets padded (or, past the largest bucket, cut, saying so once) to `rows` per image. */
function paddedTargets(batch: Batch, rows: number): Float32Array {
  const n = batch.files.length;
  const out = new Float32Array(n * rows * 6);
  const kept = Math.min(batch.maxBoxes, rows);
  if (batch.maxBoxes > rows && !warnedTruncation) {
    warnedTruncation = true;
    console.warn(
      `starling: an image of this run has ${batch.maxBoxes} boxes; the yolo loss trains on its first ${rows} ` +
        `(the largest padded box count), the rest are left out`,
    );
  }
  for (let k = 0; k < n; k++)
    out.set(batch.targets.subarray(k * batch.maxBoxes * 6, (k * batch.maxBoxes + kept) * 6), k * rows * 6);
  return out;
}

registerObjective(
  'yolo',
  (model, { distill, gains: over }) => {
    const nc = model.config.nc;
    const gains = resolveGains<{ box: number; cls: number; dfl: number }>('yolo', over);
    const distiller = distill?.dense.length ? distillerFor('yolo') : null;
    return {
      loss(g, m, images, batch, dims) {
        const t = g.input('targets', [batch, dims?.boxes ?? MAX_BOXES, 6]);
        const head = m.head as Detect;
        const levels = head.levels(m.features(images));
        const classMask = distill?.classMask ? g.input('class_mask', [batch, 1, nc]) : undefined;
        const r = yoloLoss(g, levels, t, { nc, strides: m.outputStrides, gains, ...(classMask ? { classMask } : {}) });
        if (!distiller || !distill) return { loss: r.loss, terms: r.terms };
        const kd = distiller.loss(g, m, levels, batch, distill);
        return { loss: F.add(r.loss, kd.loss), terms: { ...r.terms, ...kd.terms } };
      },
      dims: (batch) => ({ boxes: boxBucket(batch.maxBoxes) }),
      feeds: (batch) => {
        const rows = boxBucket(batch.maxBoxes);
        return {
          targets: { dtype: 'float32', shape: [batch.files.length, rows, 6], data: paddedTargets(batch, rows) },
        };
      },
      // Each term held at about what Ultralytics' gains make of it mid-training, per image.
      adaptive: { targets: { box: 3, cls: 1, dfl: 1.5, ...distillerFor('yolo')?.targets }, perImage: true },
    };
  },
  // Ultralytics' hyp.scratch gains.
  { box: 7.5, cls: 0.5, dfl: 1.5 },
);
