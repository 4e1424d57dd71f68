/**
 * The YOLOv8/YOLO11 detection loss inside the train-step graph: task-aligned assignment (top-k 10, alpha 0.5,
 * beta 6.0) on padded ground truth, BCE classification, CIoU box loss and DFL, with Ultralytics' gains
 * (box 7.5, cls 0.5, dfl 1.5) and its scaling by batch size. Assignment runs on detached predictions.
 *
 * One deviation, documented: Ultralytics takes exactly the top-k anchors per object by index; here an anchor is
 * a candidate when its alignment metric is positive and at least the k-th largest, which differs only on ties.
 */
import * as F from '../engine/functional.js';
import type { Graph, Tensor } from '../engine/ir.js';
import { nd } from '../engine/ndarray.js';
import { anchors, REG_MAX } from '../models/heads/detect.js';
import { bceWithLogits, ciou, dfl } from './loss-terms.js';

export interface YoloLossOptions {
  nc: number;
  strides: number[];
  topk?: number;
  alpha?: number;
  beta?: number;
  gains?: { box: number; cls: number; dfl: number };
  /** Predictions the assignment reads (default: `levels`). Tests pass a fixed copy to check gradients. */
  assignFrom?: Tensor[];
  /** Ultralytics treats CIoU's alpha as a constant (default true); tests turn it off for exact finite differences. */
  detachCiouAlpha?: boolean;
  /**
   * [B, 1, C]: 1 where an image's class is supervised, 0 where nobody says what it holds (a not yet labeled image
   * and a class no teacher teaches): its classification loss is left out there, never learned as background.
   */
  classMask?: Tensor;
}

const EPS = 1e-9;

/** Anchor centres in pixels [N, 2] and strides [N, 1], from the Detect head's grid (cell centres, level by level). */
export function anchorsOf(levels: Tensor[], strides: number[]) {
  const { points, strides: st } = anchors(levels, strides); // [2, N] grid units, [1, N]
  const n = st.data.length;
  const px = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    px[2 * i] = points.data[i]! * st.data[i]!;
    px[2 * i + 1] = points.data[n + i]! * st.data[i]!;
  }
  return { px: nd([n, 2], px), st: nd([n, 1], st.data) };
}

export interface YoloLoss {
  loss: Tensor;
  terms: { box: Tensor; cls: Tensor; dfl: Tensor };
  /** Assignment internals, for tests. */
  debug: { fg: Tensor; targetScores: Tensor; targetBoxes: Tensor };
}

/**
 * @param levels head outputs per level [B, 4*16 + nc, H, W]
 * @param targets [B, M, 6]: cls, x1, y1, x2, y2 (pixels), weight (0 = padding row)
 */
export function yoloLoss(g: Graph, levels: Tensor[], targets: Tensor, o: YoloLossOptions): YoloLoss {
  const topk = o.topk ?? 10;
  const alpha = o.alpha ?? 0.5;
  const beta = o.beta ?? 6.0;
  const gains = o.gains ?? { box: 7.5, cls: 0.5, dfl: 1.5 };
  const b = levels[0]!.shape[0]!;
  const nc = o.nc;
  const no = REG_MAX * 4 + nc;
  const flatten = (ls: Tensor[]) =>
    F.transpose(
      F.concat(
        ls.map((l) => F.reshape(l, [b, no, -1])),
        2,
      ),
      [0, 2, 1],
    ); // [B, N, no]
  const flat = flatten(levels);
  const n = flat.shape[1]!;
  const [distri, logits] = F.split(flat, [REG_MAX * 4, nc], 2) as [Tensor, Tensor];
  const { px, st } = anchorsOf(levels, o.strides);
  const anchorPx = g.constant(px); // [N, 2]
  const stride = g.constant(st); // [N, 1]
  const anchorGrid = F.div(anchorPx, stride);

  // Predicted boxes (grid units): expectation of the DFL distributions around each anchor.
  const bins = g.constant(
    nd(
      [REG_MAX, 1],
      Array.from({ length: REG_MAX }, (_, i) => i),
    ),
  );
  const boxesOf = (d: Tensor) => {
    const dist = F.reshape(F.matmul(F.softmax(F.reshape(d, [b, n, 4, REG_MAX]), -1), bins), [b, n, 4]);
    const [lt, rb] = F.split(dist, [2, 2], 2) as [Tensor, Tensor];
    return F.concat([F.sub(anchorGrid, lt), F.add(anchorGrid, rb)], 2); // [B, N, 4] x1y1x2y2
  };
  const predGrid = boxesOf(distri);
  const [aDistri, aLogits] = o.assignFrom
    ? (F.split(flatten(o.assignFrom), [REG_MAX * 4, nc], 2) as [Tensor, Tensor])
    : [distri, logits];
  const assignGrid = o.assignFrom ? boxesOf(aDistri) : predGrid;

  // ---- assignment on detached predictions -------------------------------------------------------------
  const m = targets.shape[1]!;
  const [gCls, gBox, gW] = F.split(targets, [1, 4, 1], 2) as [Tensor, Tensor, Tensor];
  const maskGt = F.cast(F.greater(gW, 0), 'float32'); // [B, M, 1]
  const scores = F.detach(F.sigmoid(aLogits)); // [B, N, C]
  const predPx = F.detach(F.mul(assignGrid, F.concat([stride, stride, stride, stride], 1))); // [B, N, 4]
  const classes = g.constant(
    nd(
      [1, 1, nc],
      Array.from({ length: nc }, (_, i) => i),
    ),
  );
  const oneHot = F.cast(F.equal(gCls, classes), 'float32'); // [B, M, C]

  // Anchor centres strictly inside each object's box.
  const ax = F.reshape(F.slice(anchorPx, [0], [1], [1]), [1, 1, n]);
  const ay = F.reshape(F.slice(anchorPx, [1], [2], [1]), [1, 1, n]);
  const [gx1, gy1, gx2, gy2] = F.split(gBox, [1, 1, 1, 1], 2) as [Tensor, Tensor, Tensor, Tensor]; // [B, M, 1]
  const inside = F.minimum(F.minimum(F.sub(ax, gx1), F.sub(ay, gy1)), F.minimum(F.sub(gx2, ax), F.sub(gy2, ay)));
  const candidate = F.mul(F.cast(F.greater(inside, EPS), 'float32'), maskGt); // [B, M, N]

  const overlaps = F.mul(
    F.clamp(F.reshape(ciou(F.unsqueeze(gBox, 2), F.unsqueeze(predPx, 1)), [b, m, n]), 0),
    candidate,
  );
  const clsScore = F.matmul(oneHot, F.transpose(scores, [0, 2, 1])); // [B, M, N]
  const align = F.mul(F.mul(F.pow(F.add(clsScore, 0), alpha), F.pow(overlaps, beta)), candidate);
  const k = Math.min(topk, n);
  const kth = F.slice(F.topk(align, k, 2)[0], [k - 1], [k], [2]); // [B, M, 1]
  let maskPos = F.mul(
    F.mul(F.cast(F.greaterOrEqual(align, kth), 'float32'), F.cast(F.greater(align, 0), 'float32')),
    candidate,
  );

  // An anchor claimed by several objects keeps the one it overlaps most.
  const fgCount = F.sum(maskPos, 1, true); // [B, 1, N]
  const best = F.cast(
    F.equal(
      F.unsqueeze(F.argmax(overlaps, 1), 1),
      g.constant(
        nd(
          [1, m, 1],
          Array.from({ length: m }, (_, i) => i),
        ),
        'int64',
      ),
    ),
    'float32',
  );
  maskPos = F.where(F.greater(fgCount, 1), best, maskPos);
  const fg = F.reshape(F.sum(maskPos, 1), [b, n]); // 0 / 1
  const assign = F.transpose(maskPos, [0, 2, 1]); // [B, N, M]
  const targetBoxesPx = F.matmul(assign, gBox); // [B, N, 4]
  const targetLabels = F.matmul(assign, oneHot); // [B, N, C]
  const targetWeight = F.reshape(F.matmul(assign, gW), [b, n, 1]); // pseudo-label weights

  // Scores normalized per object: align * max IoU / max align.
  const alignPos = F.mul(align, maskPos);
  const posAlignMax = F.max(alignPos, 2, true);
  const posOverlapMax = F.max(F.mul(overlaps, maskPos), 2, true);
  const norm = F.max(F.div(F.mul(alignPos, posOverlapMax), F.add(posAlignMax, EPS)), 1); // [B, N]
  const targetScores = F.detach(F.mul(F.mul(targetLabels, F.unsqueeze(norm, 2)), targetWeight));

  // ---- losses ---------------------------------------------------------------------------------------
  const tss = F.maximum(F.sum(targetScores), 1);
  const bce = bceWithLogits(logits, targetScores);
  const lossCls = F.div(F.sum(o.classMask ? F.mul(bce, o.classMask) : bce), tss);
  const weight = F.reshape(F.sum(targetScores, 2), [b, n]); // [B, N]
  const targetGrid = F.div(targetBoxesPx, F.concat([stride, stride, stride, stride], 1));
  const iou = F.reshape(ciou(predGrid, F.detach(targetGrid), o.detachCiouAlpha !== false), [b, n]);
  const lossBox = F.div(F.sum(F.mul(F.mul(F.sub(1, iou), weight), fg)), tss);
  const [tx1y1, tx2y2] = F.split(targetGrid, [2, 2], 2) as [Tensor, Tensor];
  const ltrb = F.detach(
    F.clamp(F.concat([F.sub(anchorGrid, tx1y1), F.sub(tx2y2, anchorGrid)], 2), 0, REG_MAX - 1 - 0.01),
  );
  const dflPer = F.mean(dfl(F.reshape(distri, [b, n, 4, REG_MAX]), ltrb), 2); // [B, N]
  const lossDfl = F.div(F.sum(F.mul(F.mul(dflPer, weight), fg)), tss);

  const box = F.mul(lossBox, gains.box);
  const cls = F.mul(lossCls, gains.cls);
  const dflT = F.mul(lossDfl, gains.dfl);
  const loss = F.mul(F.add(F.add(box, cls), dflT), b);
  return {
    loss,
    // The terms with their gains, as Ultralytics reports its loss items: the loss is their sum times the batch.
    terms: { box, cls, dfl: dflT },
    debug: { fg, targetScores, targetBoxes: targetBoxesPx },
  };
}
