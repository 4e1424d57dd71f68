/**
 * Loss building blocks written in IR ops (so they run inside the train-step graph and autodiff differentiates
 * them): numerically stable BCE with logits, CIoU between boxes, and the Distribution Focal Loss, following
 * Ultralytics' definitions (bbox_iou(CIoU=True), DFLoss).
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/ir.js';

const EPS = 1e-7;

/** Element-wise BCE with logits: max(x, 0) - x z + log(1 + exp(-|x|)). */
export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  return F.add(F.sub(F.relu(logits), F.mul(logits, targets)), F.log(F.add(F.exp(F.neg(F.abs(logits))), 1)));
}

/**
 * Complete IoU of boxes in corner form; `a`, `b` are [..., 4] (x1, y1, x2, y2) and broadcast; returns [..., 1].
 * CIoU = IoU - (centre distance^2 / enclosing diagonal^2 + alpha v), v = 4/pi^2 (atan(w2/h2) - atan(w1/h1))^2,
 * alpha = v / (v - IoU + 1 + eps) treated as a constant, as Ultralytics does under no_grad.
 */
export function ciou(a: Tensor, b: Tensor, detachAlpha = true): Tensor {
  const [ax1, ay1, ax2, ay2] = F.split(a, [1, 1, 1, 1], -1) as [Tensor, Tensor, Tensor, Tensor];
  const [bx1, by1, bx2, by2] = F.split(b, [1, 1, 1, 1], -1) as [Tensor, Tensor, Tensor, Tensor];
  const w1 = F.sub(ax2, ax1);
  const h1 = F.add(F.sub(ay2, ay1), EPS);
  const w2 = F.sub(bx2, bx1);
  const h2 = F.add(F.sub(by2, by1), EPS);
  const iw = F.clamp(F.sub(F.minimum(ax2, bx2), F.maximum(ax1, bx1)), 0);
  const ih = F.clamp(F.sub(F.minimum(ay2, by2), F.maximum(ay1, by1)), 0);
  const inter = F.mul(iw, ih);
  const union = F.add(F.sub(F.add(F.mul(w1, h1), F.mul(w2, h2)), inter), EPS);
  const iou = F.div(inter, union);
  const cw = F.sub(F.maximum(ax2, bx2), F.minimum(ax1, bx1));
  const ch = F.sub(F.maximum(ay2, by2), F.minimum(ay1, by1));
  const c2 = F.add(F.add(F.mul(cw, cw), F.mul(ch, ch)), EPS);
  const dx = F.sub(F.add(bx1, bx2), F.add(ax1, ax2));
  const dy = F.sub(F.add(by1, by2), F.add(ay1, ay2));
  const rho2 = F.div(F.add(F.mul(dx, dx), F.mul(dy, dy)), 4);
  const dAtan = F.sub(F.atan(F.div(w2, h2)), F.atan(F.div(w1, h1)));
  const v = F.mul(F.mul(dAtan, dAtan), 4 / Math.PI ** 2);
  const alphaRaw = F.div(v, F.add(F.sub(v, iou), 1 + EPS));
  const alpha = detachAlpha ? F.detach(alphaRaw) : alphaRaw;
  return F.sub(iou, F.add(F.div(rho2, c2), F.mul(v, alpha)));
}

/**
 * Distribution Focal Loss for one side distance: `logits` [..., R] over the bins 0..R-1, `target` [...] a
 * distance in bins (0 <= t < R-1). Cross-entropy to the two neighbouring bins, weighted by closeness.
 * Returns [...].
 */
export function dfl(logits: Tensor, target: Tensor): Tensor {
  const r = logits.shape.at(-1)!;
  const logp = F.logSoftmax(logits, -1);
  // One-hot-free selection: weights w(bin) = max(0, 1 - |bin - t|) put (tr - t) on tl and (t - tl) on tr.
  const bins = logits.graph.constant({ shape: [r], data: Float64Array.from({ length: r }, (_, i) => i) });
  const t = F.unsqueeze(target, -1);
  const w = F.relu(F.sub(1, F.abs(F.sub(bins, t))));
  return F.neg(F.sum(F.mul(w, logp), -1));
}
