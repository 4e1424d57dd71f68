import { describe, expect, it } from 'vitest';
import { twoShapes } from '../helpers.js';
import { ciouRef } from '../loss-references.js';
import { evaluate } from '../../src-main/engine/evaluate.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd, type NdArray } from '../../src-main/engine/ndarray.js';
import { yoloLoss } from '../../src-main/train/yolo-loss.js';
import { Rng } from '../../src-main/util/random.js';
import type { Detect } from '../../src-main/models/heads/detect.js';

const NC = 2;
const NO = 64 + NC;
const LEVELS = [
  { size: 8, stride: 8 },
  { size: 4, stride: 16 },
];

/** Task-aligned assignment in plain loops (Ultralytics TaskAlignedAssigner, with the documented tie rule). */
function assignRef(levels: NdArray[], targets: number[][], topk = 10) {
  const anchors: { x: number; y: number; s: number }[] = [];
  const preds: { box: number[]; scores: number[] }[] = [];
  levels.forEach((l, li) => {
    const { size, stride } = LEVELS[li]!;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const at = (c: number) => l.data[(c * size + y) * size + x]!;
        const side = [0, 1, 2, 3].map((k) => {
          const logit = Array.from({ length: 16 }, (_, j) => at(k * 16 + j));
          const mx = Math.max(...logit);
          const e = logit.map((v) => Math.exp(v - mx));
          const z = e.reduce((p, q) => p + q, 0);
          return e.reduce((p, q, j) => p + (q / z) * j, 0);
        });
        const [cx, cy] = [x + 0.5, y + 0.5];
        anchors.push({ x: cx * stride, y: cy * stride, s: stride });
        preds.push({
          box: [(cx - side[0]!) * stride, (cy - side[1]!) * stride, (cx + side[2]!) * stride, (cy + side[3]!) * stride],
          scores: [0, 1].map((c) => 1 / (1 + Math.exp(-at(64 + c)))),
        });
      }
  });
  const n = anchors.length;
  const valid = targets.filter((t) => t[5]! > 0);
  const align = valid.map(() => new Array<number>(n).fill(0));
  const overl = valid.map(() => new Array<number>(n).fill(0));
  valid.forEach((t, j) => {
    for (let i = 0; i < n; i++) {
      const a = anchors[i]!;
      const inside = Math.min(a.x - t[1]!, a.y - t[2]!, t[3]! - a.x, t[4]! - a.y) > 1e-9;
      if (!inside) continue;
      overl[j]![i] = Math.max(0, ciouRef(t.slice(1, 5), preds[i]!.box));
      align[j]![i] = Math.sqrt(preds[i]!.scores[t[0]!]!) * overl[j]![i]! ** 6;
    }
  });
  const pos = valid.map((_, j) => {
    const kth = [...align[j]!].sort((p, q) => q - p)[Math.min(topk, n) - 1]!;
    return align[j]!.map((v) => (v > 0 && v >= kth ? 1 : 0));
  });
  const fg = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const owners = valid.map((_, j) => j).filter((j) => pos[j]![i]);
    if (owners.length > 1) {
      let bestJ = 0;
      valid.forEach((_, j) => {
        if (overl[j]![i]! > overl[bestJ]![i]!) bestJ = j;
      });
      valid.forEach((_, j) => (pos[j]![i] = j === bestJ ? 1 : 0));
    }
    fg[i] = valid.some((_, j) => pos[j]![i]) ? 1 : 0;
  }
  return { fg };
}

describe('YOLO loss', () => {
  it('assigns anchors like a plain-loop TaskAlignedAssigner and gives finite loss terms', () => {
    const rng = new Rng('yolo-loss');
    const levels = LEVELS.map(({ size }) =>
      nd(
        [1, NO, size, size],
        Array.from({ length: NO * size * size }, () => rng.normal()),
      ),
    );
    const targets = [
      [0, 5, 6, 40, 30, 1],
      [1, 20, 18, 60, 62, 1],
      [0, 30, 2, 50, 20, 1],
      [0, 0, 0, 0, 0, 0], // padding
    ];
    const g = new Graph();
    const inputs = LEVELS.map(({ size }, i) => g.input(`l${i}`, [1, NO, size, size]));
    const t = g.input('t', [1, 4, 6]);
    const r = yoloLoss(g, inputs, t, { nc: NC, strides: LEVELS.map((l) => l.stride) });
    const feeds = { l0: levels[0]!, l1: levels[1]!, t: nd([1, 4, 6], targets.flat()) };
    const [fg, loss, box, cls, dflT] = evaluate([r.debug.fg, r.loss, r.terms.box, r.terms.cls, r.terms.dfl], feeds);
    const ref = assignRef(levels, targets);
    expect(Array.from(fg!.data)).toEqual(ref.fg);
    expect(ref.fg.reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
    for (const v of [loss, box, cls, dflT]) expect(Number.isFinite(v!.data[0])).toBe(true);
    expect(box!.data[0]).toBeGreaterThan(0);
  });
});

describe('YOLO loss gradients', () => {
  it('match finite differences of the whole loss (assignment held fixed, as autograd treats it)', async () => {
    const { gradients } = await import('../../src-main/engine/autodiff.js');
    const rng = new Rng('yolo-grad');
    const levels = LEVELS.map(({ size }) =>
      nd(
        [1, NO, size, size],
        Array.from({ length: NO * size * size }, () => rng.normal()),
      ),
    );
    const targets = nd([1, 3, 6], [0, 5, 6, 40, 30, 1, 1, 20, 18, 60, 62, 0.5, 0, 0, 0, 0, 0, 0]);
    const g = new Graph();
    const inputs = LEVELS.map(({ size }, i) => g.input(`l${i}`, [1, NO, size, size]));
    // The assignment reads a fixed copy: finite differences then move only what autograd differentiates.
    const fixed = LEVELS.map(({ size }, i) => g.input(`a${i}`, [1, NO, size, size]));
    const r = yoloLoss(g, inputs, g.input('t', [1, 3, 6]), {
      nc: NC,
      strides: LEVELS.map((l) => l.stride),
      assignFrom: fixed,
      detachCiouAlpha: false, // the only other detached quantity: attach it so every element compares exactly
    });
    const grads = gradients(r.loss, inputs);
    const copy = (a: NdArray) => nd(a.shape, a.data);
    const feeds = { l0: levels[0]!, l1: levels[1]!, a0: copy(levels[0]!), a1: copy(levels[1]!), t: targets };
    const analytic = evaluate(grads, feeds);
    const eps = 1e-6;
    let checked = 0;
    for (let trial = 0; trial < 120; trial++) {
      const li = rng.int(0, 1);
      const k = rng.int(0, levels[li]!.data.length - 1);
      const x = levels[li]!.data;
      const v = x[k]!;
      x[k] = v + eps;
      const up = evaluate([r.loss], feeds)[0]!.data[0]!;
      x[k] = v - eps;
      const down = evaluate([r.loss], feeds)[0]!.data[0]!;
      x[k] = v;
      const fd = (up - down) / (2 * eps);
      const an = analytic[li]!.data[k]!;
      expect(Math.abs(fd - an), `level ${li} element ${k}: fd ${fd} vs ${an}`).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(fd)),
      );
      if (Math.abs(an) > 1e-6) checked++;
    }
    expect(checked).toBeGreaterThan(10); // the check saw real gradients, not only zeros
  });

  it('lowers the loss when a StarNet YOLO11 trains on it through onnxruntime', async () => {
    const { seedInit } = await import('../../src-main/engine/nn.js');
    const { buildDetector } = await import('../../src-main/models/zoo.js');
    const { TrainStep } = await import('../../src-main/engine/train-step.js');
    const { AdamW, paramGroups } = await import('../../src-main/engine/optim.js');
    const { Runner } = await import('../../src-main/runtime/session.js');
    seedInit(5);
    const { size } = twoShapes();
    const batch = 2; // the same image twice: BatchNorm needs more than one sample
    const model = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: NC });
    const step = new TrainStep(new Runner({ device: 'cpu' }), model, (g, m, b) => {
      const x = g.input('images', [b, 3, size, size]);
      const t = g.input('targets', [b, 2, 6]);
      const d = m as typeof model;
      const r = yoloLoss(g, (d.head as Detect).levels(d.features(x)), t, { nc: NC, strides: [8, 16, 32] });
      return { loss: r.loss, terms: r.terms };
    });
    const { image: img, targets: target } = twoShapes();
    const feeds = {
      images: { dtype: 'float32' as const, shape: [batch, 3, size, size], data: Float32Array.from([...img, ...img]) },
      targets: { dtype: 'float32' as const, shape: [batch, 2, 6], data: Float32Array.from([...target, ...target]) },
    };
    const opt = new AdamW(paramGroups(model, { lr: 0.002, weightDecay: 0, momentum: 0.9 }));
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await step.run(batch, feeds);
      expect(Number.isFinite(r.loss)).toBe(true);
      losses.push(r.loss);
      opt.update(r.grads);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
  }, 180_000);
});

describe('YOLO targets padded to a bucket of boxes', () => {
  it('picks the smallest bucket that holds the fullest image', async () => {
    const { boxBucket, BOX_BUCKETS } = await import('../../src-main/train/objectives/yolo.js');
    expect([1, 8, 9, 16, 17, 64, 65, 256, 300].map(boxBucket)).toEqual([8, 8, 16, 16, 32, 64, 128, 256, 256]);
    expect(BOX_BUCKETS.at(-1)).toBe(256);
  });

  it('gives the same loss, terms and gradients at 8 padded boxes as at 64', async () => {
    const { seedInit } = await import('../../src-main/engine/nn.js');
    const { buildDetector } = await import('../../src-main/models/zoo.js');
    const { TrainStep } = await import('../../src-main/engine/train-step.js');
    const { Runner } = await import('../../src-main/runtime/session.js');
    const { objectiveFor } = await import('../../src-main/train/objectives/index.js');
    const { MAX_BOXES } = await import('../../src-main/train/objectives/yolo.js');
    seedInit(11);
    const size = 64;
    const n = 2;
    const model = buildDetector({ scale: 'n', backbone: 'shufflenetv2_x0_5', nc: NC });
    const objective = objectiveFor(model, { imgsz: size });
    const runner = new Runner({ device: 'cpu', intraOpThreads: 1 });
    const step = new TrainStep(runner, model, (g, m, b, dims) =>
      objective.loss(g, m as typeof model, g.input('images', [b, 3, size, size]), b, dims),
    );
    const rng = new Rng('bucket-padding');
    const images = Float32Array.from({ length: n * 3 * size * size }, () => rng.float());
    // Three boxes on the first image, one on the second (a zero row pads it).
    const rows = [
      [0, 4, 6, 30, 28, 1],
      [1, 20, 22, 60, 58, 1],
      [0, 36, 2, 62, 20, 0.5],
      [1, 8, 30, 40, 62, 1],
      [0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
    ];
    const batch = { files: ['a', 'b'], maxBoxes: 3, targets: Float32Array.from(rows.flat()) };
    const bucketed = objective.feeds(batch as never);
    const dims = objective.dims!(batch as never);
    expect(dims).toEqual({ boxes: 8 });
    expect(bucketed.targets!.shape).toEqual([n, 8, 6]);
    const padded = new Float32Array(n * MAX_BOXES * 6);
    padded.set(rows.slice(0, 3).flat(), 0);
    padded.set(rows.slice(3, 4).flat(), MAX_BOXES * 6);
    const img = { dtype: 'float32' as const, shape: [n, 3, size, size], data: images };
    const a = await step.run(n, { images: img, ...bucketed }, Math.random, dims);
    const b = await step.run(
      n,
      { images: img, targets: { dtype: 'float32', shape: [n, MAX_BOXES, 6], data: padded } },
      Math.random,
      { boxes: MAX_BOXES },
    );
    await runner.dispose();
    expect(a.loss).toBeGreaterThan(0);
    expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(1e-6 * b.loss);
    for (const k of Object.keys(b.terms))
      expect(Math.abs(a.terms[k]! - b.terms[k]!)).toBeLessThanOrEqual(1e-6 * b.terms[k]! + 1e-9);
    let worst = 0;
    let scale = 0;
    for (const [p, gb] of b.grads) {
      const ga = a.grads.get(p)!;
      for (let i = 0; i < gb.length; i++) {
        worst = Math.max(worst, Math.abs(ga[i]! - gb[i]!));
        scale = Math.max(scale, Math.abs(gb[i]!));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-5 * scale);
  }, 120_000);
});
