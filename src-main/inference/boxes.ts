/**
 * Box geometry shared by everything that compares boxes: IoU, greedy non-maximum suppression (as onnxruntime's
 * NonMaxSuppression computes it), class-aware NMS, and greedy same-class matching of predictions to truths.
 * No dependencies: the engine's NMS reference evaluator, the decoders, the COCO evaluator, box fusion and the
 * renderer's detection overlay all use this one file.
 */

/**
 * IoU of two [x, y, w, h] boxes (maskApi's bbIou). Against a crowd region the union is the first box's area, as
 * COCOeval computes it.
 */
export function boxIou(a: readonly number[], b: readonly number[], crowd = false): number {
  const w = Math.min(a[0]! + a[2]!, b[0]! + b[2]!) - Math.max(a[0]!, b[0]!);
  if (w <= 0) return 0;
  const h = Math.min(a[1]! + a[3]!, b[1]! + b[3]!) - Math.max(a[1]!, b[1]!);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = crowd ? a[2]! * a[3]! : a[2]! * a[3]! + b[2]! * b[3]! - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * IoU of two corner boxes stored at offsets in flat arrays, corners in either order (NonMaxSuppression's
 * convention): the NMS inner loop, which receives corners and must compute exactly what onnxruntime computes.
 */
export function cornerIou(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const [ax1, ay1, ax2, ay2] = [
    Math.min(a[ai]!, a[ai + 2]!),
    Math.min(a[ai + 1]!, a[ai + 3]!),
    Math.max(a[ai]!, a[ai + 2]!),
    Math.max(a[ai + 1]!, a[ai + 3]!),
  ];
  const [bx1, by1, bx2, by2] = [
    Math.min(b[bi]!, b[bi + 2]!),
    Math.min(b[bi + 1]!, b[bi + 3]!),
    Math.max(b[bi]!, b[bi + 2]!),
    Math.max(b[bi + 1]!, b[bi + 3]!),
  ];
  const iw = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1));
  const ih = Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

export interface NmsAttrs {
  maxOutput: number;
  iouThreshold: number;
  scoreThreshold: number;
}

/**
 * Greedy NMS over one image: boxes are corners (4 per box from `boxOffset`), scores from `scoreOffset`; returns
 * the kept indices, best score first. Boxes with score > scoreThreshold, suppressed when IoU > iouThreshold.
 */
export function greedyNms(
  boxes: ArrayLike<number>,
  boxOffset: number,
  scores: ArrayLike<number>,
  scoreOffset: number,
  n: number,
  a: NmsAttrs,
): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
    .filter((i) => scores[scoreOffset + i]! > a.scoreThreshold)
    .sort((p, q) => scores[scoreOffset + q]! - scores[scoreOffset + p]! || p - q);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= a.maxOutput) break;
    if (kept.every((k) => cornerIou(boxes, boxOffset + 4 * i, boxes, boxOffset + 4 * k) <= a.iouThreshold))
      kept.push(i);
  }
  return kept;
}

/** Ultralytics' max_wh: class offsets larger than any image side, so classes never suppress each other. */
export const CLASS_OFFSET = 7680;

export interface Candidate {
  cls: number;
  score: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

export interface Detection {
  classId: number;
  score: number;
  /** x, y, w, h in network-input pixels (or image pixels once mapped back). */
  box: [number, number, number, number];
}

/** Class-aware greedy NMS of centre-size candidates (the batched-NMS offset trick). */
export function classAwareNms(
  cand: readonly Candidate[],
  o: { conf: number; iou: number; maxDet: number },
): Detection[] {
  const shifted = new Float64Array(cand.length * 4);
  cand.forEach((c, i) => {
    const off = c.cls * CLASS_OFFSET;
    shifted.set([c.cx - c.w / 2 + off, c.cy - c.h / 2 + off, c.cx + c.w / 2 + off, c.cy + c.h / 2 + off], 4 * i);
  });
  const keep = greedyNms(
    shifted,
    0,
    cand.map((c) => c.score),
    0,
    cand.length,
    { maxOutput: o.maxDet, iouThreshold: o.iou, scoreThreshold: o.conf },
  );
  return keep.map((k) => {
    const c = cand[k]!;
    return { classId: c.cls, score: c.score, box: [c.cx - c.w / 2, c.cy - c.h / 2, c.w, c.h] };
  });
}

/**
 * Greedy same-class matching at an IoU threshold: predictions by score (highest first), each taking the free truth
 * of its class it overlaps most. Returns the matches with their IoU, and how many truths were left unmatched.
 */
export function greedyMatch(
  preds: readonly { classId: number; box: readonly number[]; score: number }[],
  truths: readonly { classId: number; box: readonly number[] }[],
  threshold = 0.5,
): { matches: { pred: number; truth: number; iou: number }[]; unmatchedTruths: number } {
  const used = new Set<number>();
  const matches: { pred: number; truth: number; iou: number }[] = [];
  const order = preds.map((_, i) => i).sort((a, b) => preds[b]!.score - preds[a]!.score);
  for (const pi of order) {
    const p = preds[pi]!;
    let best = -1;
    let bestIou = threshold;
    truths.forEach((t, i) => {
      if (used.has(i) || t.classId !== p.classId) return;
      const v = boxIou(p.box, t.box);
      if (v >= bestIou) [best, bestIou] = [i, v];
    });
    if (best >= 0) {
      used.add(best);
      matches.push({ pred: pi, truth: best, iou: bestIou });
    }
  }
  return { matches, unmatchedTruths: truths.length - used.size };
}

/** Why detections were dropped as impossible, counted. */
export interface DroppedDetections {
  /** Class ids beyond the model's classes. */
  unknownClass: number;
  /** Boxes with no size, negative or non-finite values, or nothing left inside the image. */
  badBox: number;
}

/**
 * Keeps the detections a model can really mean: class ids among its `classes`, and boxes clipped to the image
 * (`width` x `height`) with at least a pixel left. A model that answers a class id it does not have, a negative
 * size or a 1e38-pixel box is broken or mis-declared: those are dropped and counted, never passed on as boxes.
 */
export function keepPlausible(
  dets: readonly Detection[],
  o: { classes: number | null; width: number; height: number },
  dropped: DroppedDetections,
): Detection[] {
  const out: Detection[] = [];
  for (const d of dets) {
    if (!Number.isInteger(d.classId) || d.classId < 0 || (o.classes !== null && d.classId >= o.classes)) {
      dropped.unknownClass++;
      continue;
    }
    const [x, y, w, h] = d.box;
    const x1 = Math.max(0, x);
    const y1 = Math.max(0, y);
    const x2 = Math.min(o.width, x + w);
    const y2 = Math.min(o.height, y + h);
    if (![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0 || x2 - x1 < 1 || y2 - y1 < 1) {
      dropped.badBox++;
      continue;
    }
    out.push({ ...d, box: [x1, y1, x2 - x1, y2 - y1] });
  }
  return out;
}
