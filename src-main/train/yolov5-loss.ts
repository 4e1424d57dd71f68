/**
 * YOLOv5's loss (utils/loss.py ComputeLoss with hyp.scratch-low) inside the train-step graph, on the matches
 * yolov5Targets made on the CPU:
 * - box: 1 - CIoU between each match's predicted box (xy = 2 sigmoid - 0.5, wh = (2 sigmoid)^2 x anchor, in the
 *   matched cell's grid units) and its box, averaged over the level's matches;
 * - obj: BCE over every anchor of every cell, the target at a matched cell being its CIoU (detached, clamped at
 *   0), weighted per level by YOLOv5's balance (4.0, 1.0, 0.4 for P3-P5);
 * - cls: BCE over the matches' class logits against one-hot targets (none with one class, as YOLOv5 does);
 * then (box x 0.05 x 3/nl + obj x 1.0 x (imgsz/640)^2 x 3/nl + cls x 0.5 x nc/80 x 3/nl) x batch, as train.py
 * scales the gains. A pseudo-label's weight scales its box and class terms and its objectness target.
 * Matches are padded to a row count (weight 0 rows point at cell 0 and change nothing).
 */
import * as F from '../engine/functional.js';
import type { Graph, Tensor } from '../engine/ir.js';
import type { Feed } from '../runtime/session.js';
import { bceWithLogits, ciou } from './loss-terms.js';
import type { LevelTargets } from './yolov5-targets.js';

export type Yolov5Gains = { box: number; obj: number; cls: number };

/** hyp.scratch-low.yaml's loss gains. */
export const YOLOV5_GAINS: Yolov5Gains = { box: 0.05, obj: 1.0, cls: 0.5 };

/** ComputeLoss's per-level objectness balance. */
export const balanceFor = (nl: number): number[] => (nl === 3 ? [4.0, 1.0, 0.4] : [4.0, 1.0, 0.25, 0.06, 0.02]);

/** train.py's scaling of the gains by level count, class count and image size. */
export function scaledGains(g: Yolov5Gains, o: { nl: number; nc: number; imgsz: number }): Yolov5Gains {
  return {
    box: (g.box * 3) / o.nl,
    cls: ((g.cls * o.nc) / 80) * (3 / o.nl),
    obj: g.obj * (o.imgsz / 640) ** 2 * (3 / o.nl),
  };
}

export interface Yolov5LevelInputs {
  rows: Tensor;
  box: Tensor;
  anchor: Tensor;
  cls: Tensor;
  weight: Tensor;
  owner: Tensor;
}

/** The graph inputs of level `i`'s matches, padded to `m` rows, for rows of `no` = 5 + nc values. */
export function yolov5LevelInputs(g: Graph, i: number, m: number, no: number): Yolov5LevelInputs {
  return {
    rows: g.input(`v5_rows${i}`, [m, no], 'int64'),
    box: g.input(`v5_box${i}`, [m, 4]),
    anchor: g.input(`v5_anchor${i}`, [m, 2]),
    cls: g.input(`v5_cls${i}`, [m, no - 5]),
    weight: g.input(`v5_weight${i}`, [m, 1]),
    owner: g.input(`v5_owner${i}`, [m], 'int64'),
  };
}

/** Feeds for level `i`'s matches padded to `m` rows; `cells` is the level's B x na x H x W. */
export function yolov5LevelFeeds(
  i: number,
  t: LevelTargets,
  m: number,
  no: number,
  cells: number,
): Record<string, Feed> {
  if (t.count > m) throw new Error(`level ${i} has ${t.count} matches, more than the ${m} rows its graph has`);
  const nc = no - 5;
  const rows = new BigInt64Array(m * no);
  const box = new Float32Array(m * 4);
  const anchor = new Float32Array(m * 2).fill(1);
  const cls = new Float32Array(m * nc);
  const weight = new Float32Array(m);
  const owner = new BigInt64Array(m).fill(BigInt(cells)); // the spare slot past the last cell
  for (let k = 0; k < m; k++) box.set([0.5, 0.5, 1, 1], k * 4);
  for (let k = 0; k < t.count; k++) {
    rows.fill(BigInt(t.cell[k]!), k * no, (k + 1) * no);
    box.set(t.box.subarray(k * 4, k * 4 + 4), k * 4);
    anchor.set(t.anchor.subarray(k * 2, k * 2 + 2), k * 2);
    if (nc > 0) cls[k * nc + t.cls[k]!] = 1;
    weight[k] = t.weight[k]!;
    if (t.owner[k]) owner[k] = BigInt(t.cell[k]!);
  }
  const f32 = (data: Float32Array, shape: number[]): Feed => ({ dtype: 'float32', shape, data });
  return {
    [`v5_rows${i}`]: { dtype: 'int64', shape: [m, no], data: rows },
    [`v5_box${i}`]: f32(box, [m, 4]),
    [`v5_anchor${i}`]: f32(anchor, [m, 2]),
    [`v5_cls${i}`]: f32(cls, [m, nc]),
    [`v5_weight${i}`]: f32(weight, [m, 1]),
    [`v5_owner${i}`]: { dtype: 'int64', shape: [m], data: owner },
  };
}

/** xywh [M, 4] to corners [M, 4]. */
function corners(xy: Tensor, wh: Tensor): Tensor {
  const half = F.div(wh, 2);
  return F.concat([F.sub(xy, half), F.add(xy, half)], 1);
}

export interface Yolov5Loss {
  loss: Tensor;
  terms: { box: Tensor; obj: Tensor; cls: Tensor };
}

/**
 * @param rows per level, the head's rows [B, na x H x W, 5 + nc] (AnchorDetect.rows)
 * @param inputs per level, the matches' inputs
 * @param gains already scaled (scaledGains)
 */
export function yolov5Loss(
  rows: Tensor[],
  inputs: Yolov5LevelInputs[],
  o: { nc: number; gains: Yolov5Gains; detachCiouAlpha?: boolean },
): Yolov5Loss {
  const balance = balanceFor(rows.length);
  const boxTerms: Tensor[] = [];
  const objTerms: Tensor[] = [];
  const clsTerms: Tensor[] = [];
  const batch = rows[0]!.shape[0]!;
  rows.forEach((level, i) => {
    const t = inputs[i]!;
    const [b, cells, no] = level.shape as [number, number, number];
    const flat = F.reshape(level, [b * cells, no]);
    const p = F.gatherElements(flat, t.rows, 0); // [M, no]: the matched rows
    const [pxy, pwh, , pcls] = F.split(p, [2, 2, 1, o.nc], 1) as [Tensor, Tensor, Tensor, Tensor];
    const xy = F.sub(F.mul(F.sigmoid(pxy), 2), 0.5);
    const s2 = F.mul(F.sigmoid(pwh), 2);
    const wh = F.mul(F.mul(s2, s2), t.anchor);
    const [txy, twh] = F.split(t.box, [2, 2], 1) as [Tensor, Tensor];
    const iou = ciou(corners(xy, wh), corners(txy, twh), o.detachCiouAlpha ?? true); // [M, 1]
    const valid = F.cast(F.greater(t.weight, 0), 'float32');
    const n = F.maximum(F.sum(valid), 1);
    boxTerms.push(F.div(F.sum(F.mul(t.weight, F.sub(1, iou))), n));

    // The objectness target: each cell's owning match's CIoU, scattered into a spare-slot vector (padding and
    // non-owning matches land in the spare slot, cut off after).
    const tv = F.reshape(F.mul(F.clamp(F.detach(iou), 0), t.weight), [-1]);
    const tobj = F.slice(F.scatterAdd(b * cells + 1, t.owner, tv), [0], [b * cells]);
    const [, pobj] = F.split(flat, [4, 1, o.nc], 1) as [Tensor, Tensor, Tensor];
    objTerms.push(F.mul(F.mean(bceWithLogits(F.reshape(pobj, [-1]), tobj)), balance[i]!));

    if (o.nc > 1) {
      const bce = F.mul(bceWithLogits(pcls, t.cls), t.weight);
      clsTerms.push(F.div(F.sum(bce), F.mul(n, o.nc)));
    }
  });
  const sumOf = (ts: Tensor[]) => ts.reduce((a, b) => F.add(a, b));
  const lbox = sumOf(boxTerms);
  const lobj = sumOf(objTerms);
  // One class: YOLOv5 has no class loss (a zero of the same shape keeps the term's name in the logs).
  const lcls = clsTerms.length ? sumOf(clsTerms) : F.mul(lbox, 0);
  // The terms carry their gains, as YOLOv5's loss items do (what it logs, and what adaptive weights hold).
  const terms = { box: F.mul(lbox, o.gains.box), obj: F.mul(lobj, o.gains.obj), cls: F.mul(lcls, o.gains.cls) };
  return { loss: F.mul(F.add(F.add(terms.box, terms.obj), terms.cls), batch), terms };
}
