import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src-main/engine/evaluate.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd } from '../../src-main/engine/ndarray.js';
import { centernetLoss, centernetTargetInputs } from '../../src-main/train/centernet-loss.js';
import { centernetTargets, drawGaussian, gaussianRadius } from '../../src-main/train/centernet-targets.js';
import { Rng } from '../../src-main/util/random.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('CenterNet targets', () => {
  it("gives CornerNet's Gaussian radius (min overlap 0.7)", () => {
    // 10x10 box: r1 = (20 + sqrt(400 - 4 * 30/1.7)) / 2, r2 = (40 + sqrt(1600 - 16 * 30)) / 2,
    // r3 = (-28 + sqrt(784 + 4 * 2.8 * 30)) / 2 = 2.7332; the smallest wins.
    expect(gaussianRadius(10, 10)).toBeCloseTo(2.7332005306815, 12);
    expect(gaussianRadius(40, 8)).toBeLessThan(gaussianRadius(40, 16));
  });

  it('draws a peak of exactly 1 with sigma = diameter / 6, combining overlaps by maximum', () => {
    const map = new Float32Array(7 * 7);
    drawGaussian(map, 0, 7, 7, 3, 3, 2);
    const sigma = 5 / 6;
    expect(map[3 * 7 + 3]).toBe(1);
    expect(map[3 * 7 + 4]).toBeCloseTo(Math.exp(-1 / (2 * sigma * sigma)), 6);
    expect(map[1 * 7 + 1]).toBeCloseTo(Math.exp(-8 / (2 * sigma * sigma)), 6);
    expect(map[0]).toBe(0); // outside the radius
    drawGaussian(map, 0, 7, 7, 4, 3, 2);
    expect(map[3 * 7 + 3]).toBe(1); // the first peak is kept by the maximum
    expect(map[3 * 7 + 4]).toBe(1);
  });

  it('puts size, offset, mask and weight at the centre cell of each box', () => {
    // imgsz 32 -> 8x8 output; a box (6, 10)-(22, 18) px is (1.5, 2.5)-(5.5, 4.5) cells, centre (3.5, 3.5).
    const targets = new Float32Array([1, 6, 10, 22, 18, 0.5, 0, 0, 0, 0, 0, 0]);
    const t = centernetTargets(targets, 1, 2, 2, 32);
    expect(t.size).toEqual([8, 8]);
    const cell = 3 * 8 + 3;
    expect(t.heatmap[64 + cell]).toBe(1); // class 1
    expect(t.heatmap[cell]).toBe(0);
    expect(t.centers[64 + cell]).toBe(0.5);
    expect([t.wh[cell], t.wh[64 + cell]]).toEqual([4, 2]);
    expect([t.reg[cell], t.reg[64 + cell]]).toEqual([0.5, 0.5]);
    expect(t.mask[cell]).toBe(0.5);
    expect(t.mask.reduce((a, b) => a + b, 0)).toBe(0.5); // the padding row adds nothing
  });
});

describe('CenterNet loss', () => {
  function run(logits: number[], gt: number[], centers: number[], whPred: number[], whT: number[], mask: number[]) {
    const g = new Graph();
    const n = gt.length;
    const maps = {
      cls: g.input('cls', [1, 1, 1, n]),
      wh: g.input('pwh', [1, 2, 1, n]),
      reg: g.input('preg', [1, 2, 1, n]),
    };
    const t = centernetTargetInputs(g, 1, 1, 1, n);
    const r = centernetLoss(maps, t);
    const zero = new Array<number>(2 * n).fill(0);
    const [loss, hm, wh, reg] = evaluate([r.loss, r.terms.hm, r.terms.wh, r.terms.reg], {
      cls: nd([1, 1, 1, n], logits),
      pwh: nd([1, 2, 1, n], whPred),
      preg: nd([1, 2, 1, n], zero),
      heatmap: nd([1, 1, 1, n], gt),
      centers: nd([1, 1, 1, n], centers),
      wh: nd([1, 2, 1, n], whT),
      reg: nd([1, 2, 1, n], zero),
      mask: nd([1, 1, 1, n], mask),
    }).map((a) => a.data[0]!);
    return { loss: loss!, hm: hm!, wh: wh!, reg: reg! };
  }

  it('equals the penalty-reduced focal loss and masked L1 computed by hand', () => {
    // One object at cell 0 (p = 0.5); cell 1 near it (gt 0.5, p 0.5); cells 2, 3 background (p = s(2), s(-1)).
    const r = run(
      [0, 0, 2, -1],
      [1, 0.5, 0, 0],
      [1, 0, 0, 0],
      [3, 0, 0, 0, 5, 0, 0, 0],
      [4, 0, 0, 0, 2, 0, 0, 0],
      [1, 0, 0, 0],
    );
    const pos = Math.log(0.5) * 0.25;
    const near = Math.log(0.5) * 0.25 * 0.5 ** 4;
    const bg2 = Math.log(1 - sigmoid(2)) * sigmoid(2) ** 2;
    const bg3 = Math.log(1 - sigmoid(-1)) * sigmoid(-1) ** 2;
    const hm = -(pos + near + bg2 + bg3) / 1;
    expect(r.hm).toBeCloseTo(hm, 5);
    expect(r.hm).toBeCloseTo(1.85686, 4);
    // |3 - 4| + |5 - 2| over 2 values of one object.
    expect(r.wh).toBeCloseTo(4 / (2 + 1e-4), 5);
    expect(r.reg).toBe(0);
    expect(r.loss).toBeCloseTo(hm + 0.1 * r.wh, 5);
  });

  it('clamps probabilities to [1e-4, 1 - 1e-4] as CenterNet does, and is finite without objects', () => {
    const r = run([50, -50], [0, 0], [0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0]);
    const p = 1 - 1e-4;
    expect(r.hm).toBeCloseTo(-(Math.log(1 - p) * p * p + Math.log(1 - 1e-4) * 1e-8), 3);
    expect(r.wh).toBe(0);
  });

  it('matches a plain-loop reference on random maps with several objects', () => {
    const rng = new Rng('centernet-loss');
    const targets = new Float32Array([0, 10, 12, 40, 30, 1, 0, 60, 8, 110, 70, 1, 0, 0, 0, 0, 0, 0]);
    const t = centernetTargets(targets, 1, 3, 1, 160); // a 40x40 map
    const logits = Array.from({ length: 40 * 40 }, () => rng.normal() * 2);
    const g = new Graph();
    const maps = {
      cls: g.input('cls', [1, 1, 40, 40]),
      wh: g.input('pwh', [1, 2, 40, 40]),
      reg: g.input('preg', [1, 2, 40, 40]),
    };
    const r = centernetLoss(maps, centernetTargetInputs(g, 1, 1, 40, 40));
    const pwh = Array.from({ length: 2 * 1600 }, () => rng.range(0, 10));
    const preg = Array.from({ length: 2 * 1600 }, () => rng.range(0, 1));
    const [hm, wh, reg] = evaluate([r.terms.hm, r.terms.wh, r.terms.reg], {
      cls: nd([1, 1, 40, 40], logits),
      pwh: nd([1, 2, 40, 40], pwh),
      preg: nd([1, 2, 40, 40], preg),
      heatmap: nd([1, 1, 40, 40], t.heatmap),
      centers: nd([1, 1, 40, 40], t.centers),
      wh: nd([1, 2, 40, 40], t.wh),
      reg: nd([1, 2, 40, 40], t.reg),
      mask: nd([1, 1, 40, 40], t.mask),
    }).map((a) => a.data[0]!);
    let posSum = 0;
    let negSum = 0;
    let objects = 0;
    let whSum = 0;
    let regSum = 0;
    for (let i = 0; i < 1600; i++) {
      const p = Math.min(Math.max(sigmoid(logits[i]!), 1e-4), 1 - 1e-4);
      if (t.heatmap[i] === 1) {
        posSum += Math.log(p) * (1 - p) ** 2;
        objects++;
        for (const k of [0, 1]) {
          whSum += Math.abs(pwh[k * 1600 + i]! - t.wh[k * 1600 + i]!);
          regSum += Math.abs(preg[k * 1600 + i]! - t.reg[k * 1600 + i]!);
        }
      } else negSum += Math.log(1 - p) * p ** 2 * (1 - t.heatmap[i]!) ** 4;
    }
    expect(objects).toBe(2);
    expect(hm).toBeCloseTo(-(posSum + negSum) / objects, 4);
    expect(wh).toBeCloseTo(whSum / (2 * objects + 1e-4), 4);
    expect(reg).toBeCloseTo(regSum / (2 * objects + 1e-4), 4);
  });
});
