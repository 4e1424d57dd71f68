/**
 * Post-processing folded into an inference graph (the yolo head's `nms` export style). `nmsHead` turns the raw YOLO output [B, 4 + nc, N]
 * (cx, cy, w, h in pixels, then class scores) into [B, max_det, 6] = x1, y1, x2, y2, score, class, padded with
 * zero rows, as Ultralytics' `nms=True` exports do. NMS is class-aware (boxes offset by class, the usual
 * batched-NMS trick).
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/ir.js';

export interface NmsOptions {
  maxDet: number;
  iou: number;
  conf: number;
}

/** Ultralytics' max_wh: class offsets larger than any image side. */
const CLASS_OFFSET = 7680;

export function nmsHead(raw: Tensor, o: NmsOptions): Tensor {
  const [b, ch, n] = raw.shape as [number, number, number];
  const nc = ch - 4;
  const maxDet = Math.min(o.maxDet, n);
  const [xywh, scores] = F.split(raw, [4, nc], 1) as [Tensor, Tensor];
  const [cxy, wh] = F.split(xywh, [2, 2], 1) as [Tensor, Tensor];
  const half = F.div(wh, 2);
  const xyxy = F.transpose(F.concat([F.sub(cxy, half), F.add(cxy, half)], 1), [0, 2, 1]); // [B, N, 4]
  const best = F.max(scores, 1); // [B, N]
  const cls = F.cast(F.argmax(scores, 1), 'float32'); // [B, N]
  const shifted = F.add(xyxy, F.unsqueeze(F.mul(cls, CLASS_OFFSET), 2));
  const keep = F.nmsMask(shifted, F.unsqueeze(best, 1), {
    maxOutput: maxDet,
    iouThreshold: o.iou,
    scoreThreshold: o.conf,
  });
  const [topScore, topIdx] = F.topk(F.mul(best, keep), maxDet, 1); // kept boxes first, then zeros
  const idx3 = F.unsqueeze(topIdx, 2);
  const boxes = F.gatherElements(xyxy, F.expand(idx3, [b, maxDet, 4]), 1);
  const classes = F.gatherElements(F.unsqueeze(cls, 2), idx3, 1);
  const rows = F.concat([boxes, F.unsqueeze(topScore, 2), classes], 2); // [B, maxDet, 6]
  return F.where(F.greater(F.unsqueeze(topScore, 2), 0), rows, 0); // padding rows are exact zeros
}
