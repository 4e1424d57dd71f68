/**
 * Distillation losses against plain-loop references and finite differences (the engine's float64 evaluator),
 * the masking of classes nobody teaches, the adaptive weights' gradient, and the box-level path's targets.
 */
import { describe, expect, it } from 'vitest';
import { ciouRef } from '../loss-references.js';
import { gradients } from '../../src-main/engine/autodiff.js';
import { evaluate } from '../../src-main/engine/evaluate.js';
import * as F from '../../src-main/engine/functional.js';
import { Graph, type Tensor } from '../../src-main/engine/ir.js';
import { nd, type NdArray } from '../../src-main/engine/ndarray.js';
import type { Detector } from '../../src-main/models/detector.js';
import { adaptiveLoss } from '../../src-main/train/adaptive-loss.js';
import { centernetLoss, centernetTargetInputs } from '../../src-main/train/centernet-loss.js';
import { distillerFor } from '../../src-main/train/distill/index.js';
import { addTargets } from '../../src-main/train/distill/hook.js';
import type { Batch } from '../../src-main/train/loader.js';
import { yoloLoss } from '../../src-main/train/yolo-loss.js';
import { Rng } from '../../src-main/util/random.js';

const NC = 2;
const NO = 64 + NC;
const LEVELS = [
  { size: 4, stride: 8 },
  { size: 2, stride: 16 },
];
const N = LEVELS.reduce((n, l) => n + l.size * l.size, 0);
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const bce = (x: number, z: number) => Math.max(x, 0) - x * z + Math.log(1 + Math.exp(-Math.abs(x)));
const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
};

/** A student's per-level maps, level by level in channel-major layout, read per anchor. */
function anchorsOf(levels: NdArray[]) {
  const out: { logits: number[]; bins: number[][]; box: number[] }[] = [];
  levels.forEach((l, li) => {
    const { size, stride } = LEVELS[li]!;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const at = (c: number) => l.data[(c * size + y) * size + x]!;
        const bins = [0, 1, 2, 3].map((k) => Array.from({ length: 16 }, (_, j) => at(k * 16 + j)));
        const side = bins.map((b) => softmax(b).reduce((p, q, j) => p + q * j, 0));
        const [cx, cy] = [x + 0.5, y + 0.5];
        out.push({
          logits: [0, 1].map((c) => at(64 + c)),
          bins,
          box: [(cx - side[0]!) * stride, (cy - side[1]!) * stride, (cx + side[2]!) * stride, (cy + side[3]!) * stride],
        });
      }
  });
  return out;
}

/** What the yolo distiller needs of a Detector. */
const student = { config: { nc: NC }, outputStrides: LEVELS.map((l) => l.stride) } as unknown as Detector;

function randomLevels(rng: Rng): NdArray[] {
  return LEVELS.map(({ size }) =>
    nd(
      [1, NO, size, size],
      Array.from({ length: NO * size * size }, () => rng.normal()),
    ),
  );
}

function expectGradientsMatch(loss: Tensor, inputs: Tensor[], feeds: Record<string, NdArray>, arrays: NdArray[]) {
  const analytic = evaluate(gradients(loss, inputs), feeds);
  const rng = new Rng('fd');
  const eps = 1e-6;
  let checked = 0;
  for (let trial = 0; trial < 80; trial++) {
    const i = rng.int(0, arrays.length - 1);
    const x = arrays[i]!.data;
    const k = rng.int(0, x.length - 1);
    const v = x[k]!;
    x[k] = v + eps;
    const up = evaluate([loss], feeds)[0]!.data[0]!;
    x[k] = v - eps;
    const down = evaluate([loss], feeds)[0]!.data[0]!;
    x[k] = v;
    const fd = (up - down) / (2 * eps);
    const an = analytic[i]!.data[k]!;
    expect(Math.abs(fd - an), `input ${i} element ${k}: fd ${fd} vs ${an}`).toBeLessThan(
      1e-5 * Math.max(1, Math.abs(fd)),
    );
    if (Math.abs(an) > 1e-7) checked++;
  }
  expect(checked).toBeGreaterThan(10);
}

describe('yolo distillation', () => {
  const rng = new Rng('kd-yolo');
  const levels = randomLevels(rng);
  const probs = nd(
    [1, N, NC],
    Array.from({ length: N * NC }, () => rng.float()),
  );
  const boxes = nd(
    [1, N, 4],
    Array.from({ length: N }, () => {
      const x = rng.range(0, 24);
      const y = rng.range(0, 24);
      return [x, y, x + rng.range(2, 10), y + rng.range(2, 10)];
    }).flat(),
  );
  const dfl = nd(
    [1, N, 64],
    Array.from({ length: N * 64 }, () => rng.normal()),
  );
  const spec = { weight: 1, classMask: false, dense: [{ owned: [0], dfl: true }] };

  function build() {
    const g = new Graph();
    const inputs = LEVELS.map(({ size }, i) => g.input(`l${i}`, [1, NO, size, size]));
    const r = distillerFor('yolo')!.loss(g, student, inputs, 1, spec);
    const feeds = { l0: levels[0]!, l1: levels[1]!, kd0_probs: probs, kd0_boxes: boxes, kd0_dfl: dfl };
    return { r, inputs, feeds };
  }

  it('equals a plain-loop reference: BCE on taught classes, confidence-weighted CIoU and DFL KL', () => {
    const { r, feeds } = build();
    const [cls, box, kl, loss] = evaluate([r.terms.kd_cls!, r.terms.kd_box!, r.terms.kd_dfl!, r.loss], feeds);
    const anchors = anchorsOf(levels);
    let bceSum = 0;
    let mass = 0;
    let boxSum = 0;
    let klSum = 0;
    let conf = 0;
    anchors.forEach((a, n) => {
      const p = probs.data[n * NC]!; // class 0 only: class 1 is not taught
      bceSum += bce(a.logits[0]!, p);
      mass += p;
      boxSum += (1 - ciouRef(a.box, Array.from(boxes.data.subarray(n * 4, n * 4 + 4)))) * p;
      let sides = 0;
      for (let s = 0; s < 4; s++) {
        const t = softmax(Array.from(dfl.data.subarray(n * 64 + s * 16, n * 64 + s * 16 + 16)));
        const q = softmax(a.bins[s]!);
        sides += t.reduce((acc, ti, j) => acc + ti * (Math.log(ti) - Math.log(q[j]!)), 0);
      }
      klSum += (sides / 4) * p;
      conf += p;
    });
    const refCls = bceSum / Math.max(mass, 1);
    const refBox = boxSum / Math.max(conf, 1);
    const refKl = klSum / Math.max(conf, 1);
    expect(cls!.data[0]).toBeCloseTo(refCls, 9);
    expect(box!.data[0]).toBeCloseTo(refBox, 9);
    expect(kl!.data[0]).toBeCloseTo(refKl, 9);
    expect(loss!.data[0]).toBeCloseTo(0.5 * refCls + 7.5 * refBox + 1.5 * refKl, 8);
  });

  it('has the gradients finite differences give (class and DFL terms; CIoU is checked in the yolo loss)', () => {
    const { r, inputs, feeds } = build();
    expectGradientsMatch(F.add(r.terms.kd_cls!, r.terms.kd_dfl!), inputs, feeds, levels);
  });

  it('leaves a class no teacher teaches out of the distillation entirely', () => {
    const { r, inputs, feeds } = build();
    const grads = evaluate(gradients(r.terms.kd_cls!, inputs), feeds);
    for (const [li, { size }] of LEVELS.entries())
      for (let k = 0; k < size * size; k++) expect(grads[li]!.data[(64 + 1) * size * size + k]).toBe(0);
  });
});

describe('centernet distillation (centerX KdLoss)', () => {
  const C = 3;
  const H = 4;
  const rng = new Rng('kd-centernet');
  const arr = (c: number, f: () => number) => nd([1, c, H, H], Array.from({ length: c * H * H }, f));
  const cls = arr(C, () => rng.normal());
  const wh = arr(2, () => rng.range(0, 4));
  const reg = arr(2, () => rng.float());
  const heat = arr(C, () => rng.float() ** 3);
  const twh = arr(2, () => rng.range(0, 4));
  const treg = arr(2, () => rng.float());
  const owned = [0, 2];

  function build() {
    const g = new Graph();
    const inputs = [g.input('cls', [1, C, H, H]), g.input('wh', [1, 2, H, H]), g.input('reg', [1, 2, H, H])];
    const r = distillerFor('centernet')!.loss(
      g,
      {} as Detector,
      { cls: inputs[0]!, wh: inputs[1]!, reg: inputs[2]! },
      1,
      { weight: 1, classMask: false, dense: [{ owned, dfl: false }] },
    );
    const feeds = { cls, wh, reg, kd0_hm: heat, kd0_wh: twh, kd0_reg: treg };
    return { r, inputs, feeds };
  }

  it('equals a plain-loop reference of centerX: MSE on the taught slice, peak-masked L1 on size and offset', () => {
    const { r, feeds } = build();
    const [hm, whT, regT, loss] = evaluate([r.terms.kd_hm!, r.terms.kd_wh!, r.terms.kd_reg!, r.loss], feeds);
    const at = (a: NdArray, c: number, y: number, x: number) => a.data[(c * H + y) * H + x]!;
    const leaky = (v: number) => (v >= 0 ? v : 0.01 * v);
    let mse = 0;
    for (const c of owned)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < H; x++) mse += (leaky(sig(at(cls, c, y, x))) - leaky(at(heat, c, y, x))) ** 2;
    mse /= owned.length * H * H;
    // The mask: each taught channel's 3x3 local maxima keep their value; the max over channels.
    const mask = new Float64Array(H * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < H; x++)
        for (const c of owned) {
          const v = at(heat, c, y, x);
          let peak = true;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const yy = y + dy;
              const xx = x + dx;
              if (yy >= 0 && xx >= 0 && yy < H && xx < H && at(heat, c, yy, xx) > v) peak = false;
            }
          if (peak) mask[y * H + x] = Math.max(mask[y * H + x]!, v);
        }
    const msum = mask.reduce((a, b) => a + b, 0) + 1e-4;
    const l1 = (p: NdArray, t: NdArray) => {
      let s = 0;
      for (let k = 0; k < 2; k++)
        for (let i = 0; i < H * H; i++)
          s += Math.abs(p.data[k * H * H + i]! * mask[i]! - t.data[k * H * H + i]! * mask[i]!);
      return s / msum;
    };
    expect(hm!.data[0]).toBeCloseTo(mse, 10);
    expect(whT!.data[0]).toBeCloseTo(l1(wh, twh), 10);
    expect(regT!.data[0]).toBeCloseTo(l1(reg, treg), 10);
    expect(loss!.data[0]).toBeCloseTo(10 * (mse + l1(wh, twh) + 0.1 * l1(reg, treg)), 8);
  });

  it('has the gradients finite differences give', () => {
    const { r, inputs, feeds } = build();
    expectGradientsMatch(r.loss, inputs, feeds, [cls, wh, reg]);
  });
});

describe('class masks for images nobody labeled', () => {
  it('yolo: a masked class gets no classification gradient on that image, others do', () => {
    const rng = new Rng('mask-yolo');
    const levels = LEVELS.map(({ size }) =>
      nd(
        [2, NO, size, size],
        Array.from({ length: 2 * NO * size * size }, () => rng.normal()),
      ),
    );
    const g = new Graph();
    const inputs = LEVELS.map(({ size }, i) => g.input(`l${i}`, [2, NO, size, size]));
    const mask = g.input('mask', [2, 1, NC]);
    const r = yoloLoss(g, inputs, g.input('t', [2, 1, 6]), {
      nc: NC,
      strides: LEVELS.map((l) => l.stride),
      classMask: mask,
    });
    const feeds = {
      l0: levels[0]!,
      l1: levels[1]!,
      t: nd([2, 1, 6], [0, 2, 2, 20, 20, 1, 0, 0, 0, 0, 0, 0]),
      mask: nd([2, 1, NC], [1, 1, 1, 0]), // image 1 is unlabeled, its class 1 taught by nobody
    };
    const grads = evaluate(gradients(r.terms.cls, inputs), feeds);
    const plane = (li: number) => LEVELS[li]!.size ** 2;
    const at = (li: number, b: number, c: number) =>
      Array.from(grads[li]!.data.subarray((b * NO + 64 + c) * plane(li), (b * NO + 65 + c) * plane(li)));
    for (const li of [0, 1]) {
      expect(at(li, 1, 1).every((v) => v === 0)).toBe(true);
      expect(at(li, 1, 0).some((v) => v !== 0)).toBe(true); // class 0 is still learned as background there
      expect(at(li, 0, 1).some((v) => v !== 0)).toBe(true);
    }
  });

  it('centernet: a masked class is not learned as background (centerX ignore_unlabel)', () => {
    const g = new Graph();
    const maps = {
      cls: g.input('pcls', [1, 2, 2, 2]),
      wh: g.input('pwh', [1, 2, 2, 2]),
      reg: g.input('preg', [1, 2, 2, 2]),
    };
    const r = centernetLoss(maps, centernetTargetInputs(g, 1, 2, 2, 2), { classMask: g.input('cmask', [1, 2, 1, 1]) });
    const z = (c: number) => nd([1, c, 2, 2]);
    const [grad] = evaluate(gradients(r.terms.hm, [maps.cls]), {
      pcls: nd([1, 2, 2, 2], [0.3, -1, 2, 0.1, 1, -0.5, 0.2, 0.7]),
      pwh: z(2),
      preg: z(2),
      heatmap: z(2),
      centers: z(2),
      wh: z(2),
      reg: z(2),
      mask: z(1),
      cmask: nd([1, 2, 1, 1], [1, 0]), // no labels, no teacher for class 1 on this image
    });
    expect(Array.from(grad!.data.subarray(0, 4)).some((v) => v !== 0)).toBe(true);
    expect(Array.from(grad!.data.subarray(4, 8)).every((v) => v === 0)).toBe(true);
  });
});

describe('adaptive loss weights (centerX communism)', () => {
  it('holds each term at its target, and its gradient is target x grad(log term)', () => {
    const g = new Graph();
    const x = g.input('x', [4]);
    const a = F.sum(F.mul(x, x));
    const b = F.sum(F.exp(x));
    const loss = adaptiveLoss({ a, b }, { a: 2, b: 0.5 }, 3);
    const feeds = { x: nd([4], [0.3, -1.2, 0.8, 2]) };
    const [value, av, bv] = evaluate([loss, a, b], feeds);
    expect(value!.data[0]).toBeCloseTo(3 * (2 + 0.5), 12);
    const [grad] = evaluate(gradients(loss, [x]), feeds);
    const [ga, gb] = evaluate([...gradients(a, [x]), ...gradients(b, [x])], feeds);
    for (let i = 0; i < 4; i++)
      expect(grad!.data[i]).toBeCloseTo(
        3 * (2 * (ga!.data[i]! / av!.data[0]!) + 0.5 * (gb!.data[i]! / bv!.data[0]!)),
        10,
      );
    expect(() => adaptiveLoss({ a, c: b }, { a: 1 }, 1)).toThrow(/no target for the term "c"/);
  });
});

describe('box-level distillation', () => {
  it('appends teacher boxes to the padded targets after each image own', () => {
    // Image 0 has one label and a padding row; image 1 nothing.
    const batch = {
      targets: Float32Array.from([1, 0, 0, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      maxBoxes: 2,
      files: ['a', 'b'],
      labeled: [true, false],
    } as unknown as Batch;
    addTargets(batch, [
      [],
      [
        [0, 1, 1, 3, 3, 0.6],
        [1, 2, 2, 5, 5, 0.9],
      ],
    ]);
    expect(batch.maxBoxes).toBe(2);
    expect(Array.from(batch.targets)).toEqual([
      1,
      0,
      0,
      4,
      4,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      1,
      3,
      3,
      expect.closeTo(0.6, 6),
      1,
      2,
      2,
      5,
      5,
      expect.closeTo(0.9, 6),
    ]);
  });
});
