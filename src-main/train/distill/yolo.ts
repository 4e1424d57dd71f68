/**
 * Dense distillation for the yolo head, centerX's logit distillation carried over to anchors: when a teacher's
 * raw output [B, 4 + C, N] has the student's anchors (same input size and strides: an Ultralytics or Starling raw
 * export), per anchor
 * - classes: BCE of the student's class logits against the teacher's class probabilities, over the classes the
 *   teacher teaches only (C binary classifiers, as centerX notes), normalised by the teacher's probability mass;
 * - boxes: weighted by the teacher's confidence (its best taught class), 1 - CIoU between the decoded boxes, and
 *   for a Starling teacher, which also gives its box-distribution logits, a KL divergence on the DFL bins;
 * at Ultralytics' gains (cls 0.5, box 7.5, dfl 1.5) and its batch scaling, times the run's distillation weight.
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { nd } from '../../engine/ndarray.js';
import type { Outputs } from '../../inference/decode.js';
import { anchors, REG_MAX } from '../../models/heads/detect.js';
import type { Feed } from '../../runtime/session.js';
import { bceWithLogits, ciou } from '../loss-terms.js';
import { registerDistiller } from './distiller.js';

const GAINS = { cls: 0.5, box: 7.5, dfl: 1.5 };

/** 1 at the classes a teacher teaches. */
export const ownedMask = (owned: readonly number[], nc: number): number[] =>
  Array.from({ length: nc }, (_, c) => (owned.includes(c) ? 1 : 0));

/** The raw output of a teacher: the one output, or `output0` next to a Starling teacher's `dfl`. */
const rawOf = (outputs: Outputs) => outputs.output0 ?? Object.values(outputs)[0]!;

registerDistiller('yolo', {
  aligned(probe, student, imgsz) {
    if (probe.family !== 'ultralytics-raw' || probe.imgsz !== imgsz) return false;
    const raw = probe.outputs.output0 ?? Object.values(probe.outputs)[0];
    const anchorsAt = student.outputStrides.reduce((n, s) => n + (imgsz / s) ** 2, 0);
    return raw?.length === 3 && raw[2] === anchorsAt;
  },

  classMaskShape: (batch, nc) => [batch, 1, nc],

  loss(g, m, raw, b, spec) {
    const levels = raw as Tensor[];
    const nc = m.config.nc;
    const no = REG_MAX * 4 + nc;
    const flat = F.transpose(
      F.concat(
        levels.map((l) => F.reshape(l, [b, no, -1])),
        2,
      ),
      [0, 2, 1],
    ); // [B, N, no]
    const n = flat.shape[1]!;
    const [distri, logits] = F.split(flat, [REG_MAX * 4, nc], 2) as [Tensor, Tensor];
    const { points, strides } = anchors(levels, m.outputStrides);
    const grid = new Float64Array(2 * n);
    const px = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      grid[2 * i] = points.data[i]!;
      grid[2 * i + 1] = points.data[n + i]!;
      px[2 * i] = strides.data[i]!;
      px[2 * i + 1] = strides.data[i]!;
    }
    const anchorGrid = g.constant(nd([n, 2], grid));
    const stride2 = g.constant(nd([n, 2], px));
    const bins = g.constant(
      nd(
        [REG_MAX, 1],
        Array.from({ length: REG_MAX }, (_, i) => i),
      ),
    );
    const dist = F.reshape(F.matmul(F.softmax(F.reshape(distri, [b, n, 4, REG_MAX]), -1), bins), [b, n, 4]);
    const [lt, rb] = F.split(dist, [2, 2], 2) as [Tensor, Tensor];
    const predPx = F.concat([F.mul(F.sub(anchorGrid, lt), stride2), F.mul(F.add(anchorGrid, rb), stride2)], 2);

    let cls: Tensor | null = null;
    let box: Tensor | null = null;
    let dflT: Tensor | null = null;
    const acc = (a: Tensor | null, x: Tensor) => (a ? F.add(a, x) : x);
    spec.dense.forEach((t, i) => {
      const probs = g.input(`kd${i}_probs`, [b, n, nc]);
      const owned = g.constant(nd([1, 1, nc], ownedMask(t.owned, nc)));
      const boxes = g.input(`kd${i}_boxes`, [b, n, 4]);
      const taught = F.mul(probs, owned);
      cls = acc(cls, F.div(F.sum(F.mul(bceWithLogits(logits, probs), owned)), F.maximum(F.sum(taught), 1)));
      const conf = F.max(taught, 2); // [B, N]: how sure the teacher is there is a taught object
      const confSum = F.maximum(F.sum(conf), 1);
      const iou = F.reshape(ciou(predPx, boxes), [b, n]);
      box = acc(box, F.div(F.sum(F.mul(F.sub(1, iou), conf)), confSum));
      if (t.dfl) {
        const tl = F.reshape(g.input(`kd${i}_dfl`, [b, n, 4 * REG_MAX]), [b, n, 4, REG_MAX]);
        const sl = F.reshape(distri, [b, n, 4, REG_MAX]);
        const kl = F.sum(F.mul(F.softmax(tl, -1), F.sub(F.logSoftmax(tl, -1), F.logSoftmax(sl, -1))), -1);
        dflT = acc(dflT, F.div(F.sum(F.mul(F.mean(kl, 2), conf)), confSum));
      }
    });
    const terms: Record<string, Tensor> = { kd_cls: cls!, kd_box: box! };
    let loss = F.add(F.mul(cls!, GAINS.cls), F.mul(box!, GAINS.box));
    if (dflT) {
      terms.kd_dfl = dflT;
      loss = F.add(loss, F.mul(dflT, GAINS.dfl));
    }
    return { loss: F.mul(loss, b * spec.weight), terms };
  },

  denseFeeds(index, outputs, n, o) {
    const raw = rawOf(outputs);
    const [, ch, anchorsN] = raw.dims as [number, number, number];
    const d = raw.data;
    const probs = new Float32Array(n * anchorsN * o.nc);
    const boxes = new Float32Array(n * anchorsN * 4);
    for (let b = 0; b < n; b++) {
      const base = b * ch * anchorsN;
      for (let a = 0; a < anchorsN; a++) {
        const cx = d[base + a]!;
        const cy = d[base + anchorsN + a]!;
        const w = d[base + 2 * anchorsN + a]!;
        const h = d[base + 3 * anchorsN + a]!;
        boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], (b * anchorsN + a) * 4);
        for (let tc = 0; tc < o.toStudent.length; tc++) {
          const sc = o.toStudent[tc];
          if (sc === null || sc === undefined) continue;
          const p = d[base + (4 + tc) * anchorsN + a]!;
          const at = (b * anchorsN + a) * o.nc + sc;
          if (p > probs[at]!) probs[at] = p; // two teacher classes onto one student class: the surer one
        }
      }
    }
    const f = (shape: number[], data: Float32Array): Feed => ({ dtype: 'float32', shape, data });
    const feeds: Record<string, Feed> = {
      [`kd${index}_probs`]: f([n, anchorsN, o.nc], probs),
      [`kd${index}_boxes`]: f([n, anchorsN, 4], boxes),
    };
    if (o.dfl) {
      // A Starling teacher's `dfl` output is [B, 4 * reg_max, N]: transposed to [B, N, 4 * reg_max].
      const t = outputs.dfl!;
      const r = t.dims[1]!;
      const out = new Float32Array(n * anchorsN * r);
      for (let b = 0; b < n; b++)
        for (let k = 0; k < r; k++)
          for (let a = 0; a < anchorsN; a++) out[(b * anchorsN + a) * r + k] = t.data[(b * r + k) * anchorsN + a]!;
      feeds[`kd${index}_dfl`] = f([n, anchorsN, r], out);
    }
    return feeds;
  },

  targets: { kd_cls: 1, kd_box: 3, kd_dfl: 1.5 },
});
