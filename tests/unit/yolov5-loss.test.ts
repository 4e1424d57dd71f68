/**
 * YOLOv5's loss: the matching against a box worked out by hand, the loss at zero logits against hand arithmetic,
 * and, on random predictions with boxes that share cells, loss and gradients against the PyTorch twin of
 * YOLOv5's ComputeLoss (bench/reference/torch_yolov5.py).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciouRef } from '../loss-references.js';
import { pythonWithTorch } from '../third-party.js';
import { gradients } from '../../src-main/engine/autodiff.js';
import { evaluate } from '../../src-main/engine/evaluate.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd, type NdArray } from '../../src-main/engine/ndarray.js';
import { YOLOV5_ANCHORS } from '../../src-main/models/heads/yolov5-detect.js';
import { matchRows } from '../../src-main/train/objectives/yolov5.js';
import {
  scaledGains,
  YOLOV5_GAINS,
  yolov5LevelFeeds,
  yolov5LevelInputs,
  yolov5Loss,
} from '../../src-main/train/yolov5-loss.js';
import { yolov5Targets } from '../../src-main/train/yolov5-targets.js';
import { Rng } from '../../src-main/util/random.js';

const STRIDES = [8, 16, 32];
const geometry = (imgsz: number) =>
  STRIDES.map((stride, i) => ({ h: imgsz / stride, w: imgsz / stride, stride, anchors: YOLOV5_ANCHORS[i]! }));

/** Loss, terms and gradients by the engine's reference evaluator, the predictions fed as rows [B, na*H*W, no]. */
function engineLoss(preds: NdArray[], targets: Float32Array, n: number, maxBoxes: number, nc: number, imgsz: number) {
  const levels = geometry(imgsz);
  const matches = yolov5Targets(targets, n, maxBoxes, levels);
  const m = matchRows(Math.max(...matches.map((t) => t.count)));
  const g = new Graph();
  const rows = preds.map((p, i) => g.input(`p${i}`, p.shape));
  const inputs = rows.map((_, i) => yolov5LevelInputs(g, i, m, nc + 5));
  const r = yolov5Loss(rows, inputs, { nc, gains: scaledGains(YOLOV5_GAINS, { nl: 3, nc, imgsz }) });
  const feeds: Record<string, NdArray> = Object.fromEntries(preds.map((p, i) => [`p${i}`, p]));
  matches.forEach((t, i) => {
    const cells = n * 3 * levels[i]!.h * levels[i]!.w;
    for (const [k, f] of Object.entries(yolov5LevelFeeds(i, t, m, nc + 5, cells)))
      feeds[k] = nd(f.shape, Array.from(f.data as ArrayLike<number | bigint>, Number));
  });
  const grads = gradients(r.loss, rows);
  const [loss, box, obj, cls, ...g0] = evaluate([r.loss, r.terms.box, r.terms.obj, r.terms.cls, ...grads], feeds);
  return { matches, loss: loss!.data[0]!, box: box!.data[0]!, obj: obj!.data[0]!, cls: cls!.data[0]!, grads: g0 };
}

describe('YOLOv5 matching (build_targets)', () => {
  // One box, class 1, corners (10, 14)-(26, 38) at imgsz 64: centre (18, 26), 16 x 24 px.
  const box = Float32Array.from([1, 10, 14, 26, 38, 1]);
  const [p3, p4, p5] = yolov5Targets(box, 1, 1, geometry(64));

  it('at stride 8: all three anchors, its cell and the left and upper neighbours, in YOLOv5 order', () => {
    // Grid units: centre (2.25, 3.25), size 2 x 3; anchors 1.25x1.625, 2x3.75, 4.125x2.875 are all within 4x.
    // The centre is within half a cell of the left and upper edges (fractions 0.25 > 1 cell in), not the others.
    // Order: offset group (own, left, up), then anchor. Cell = (a * 8 + gj) * 8 + gi.
    expect(p3!.count).toBe(9);
    expect(Array.from(p3!.cell)).toEqual([26, 90, 154, 25, 89, 153, 18, 82, 146]);
    const tb = Array.from({ length: 9 }, (_, k) => Array.from(p3!.box.subarray(k * 4, k * 4 + 4)));
    expect(tb.slice(0, 3)).toEqual(Array(3).fill([0.25, 0.25, 2, 3]));
    expect(tb.slice(3, 6)).toEqual(Array(3).fill([1.25, 0.25, 2, 3]));
    expect(tb.slice(6)).toEqual(Array(3).fill([0.25, 1.25, 2, 3]));
    expect(Array.from(p3!.anchor.subarray(0, 6))).toEqual([1.25, 1.625, 2, 3.75, 4.125, 2.875]);
    expect(Array.from(p3!.cls)).toEqual(Array(9).fill(1));
    expect(Array.from(p3!.owner)).toEqual(Array(9).fill(1));
  });

  it('at stride 16: the anchors within 4x (not 59x119), its cell, the left and the lower neighbours', () => {
    // Centre (1.125, 1.625), size 1 x 1.5: anchor 3 is 3.6875 x 7.4375, 4.96x taller. Left: fraction 0.125;
    // down: 4 - 1.625 = 2.375, fraction 0.375, so the cell below (gj 2).
    expect(p4!.count).toBe(6);
    expect(Array.from(p4!.cell)).toEqual([1 * 4 + 1, 16 + 5, 4, 16 + 4, 2 * 4 + 1, 16 + 9]);
  });

  it('at stride 32: nothing (every anchor is more than 4x the box)', () => {
    expect(p5!.count).toBe(0);
  });

  it('gives a cell two boxes share to the last entry on it', () => {
    const two = Float32Array.from([0, 10, 14, 26, 38, 1, 1, 11, 15, 25, 37, 1]);
    const [t] = yolov5Targets(two, 1, 2, geometry(64));
    const cells = Array.from(t!.cell);
    cells.forEach((c, k) => {
      const last = cells.lastIndexOf(c);
      expect(t!.owner[k], `entry ${k}`).toBe(k === last ? 1 : 0);
    });
    expect(cells.length).toBe(18);
  });

  it('pads matches to powers of four from 64', () => {
    expect([0, 1, 64, 65, 300, 1025].map(matchRows)).toEqual([64, 64, 64, 256, 1024, 4096]);
  });
});

describe('YOLOv5 loss', () => {
  it('at zero logits equals the loss worked by hand', () => {
    const nc = 2;
    const imgsz = 64;
    const preds = geometry(imgsz).map((l) =>
      nd([1, 3 * l.h * l.w, nc + 5], new Float64Array(3 * l.h * l.w * (nc + 5))),
    );
    const r = engineLoss(preds, Float32Array.from([1, 10, 14, 26, 38, 1]), 1, 1, nc, imgsz);
    // sigmoid(0) = 0.5: every predicted box sits at (0.5, 0.5) of its cell with its anchor's size.
    const corners = (x: number, y: number, w: number, h: number) => [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
    const boxTerm = (t: (typeof r.matches)[number]) => {
      let s = 0;
      for (let k = 0; k < t.count; k++) {
        const [tx, ty, tw, th] = t.box.subarray(k * 4, k * 4 + 4);
        const [aw, ah] = t.anchor.subarray(k * 2, k * 2 + 2);
        s += 1 - ciouRef(corners(0.5, 0.5, aw!, ah!), corners(tx!, ty!, tw!, th!));
      }
      return t.count ? s / t.count : 0;
    };
    const lbox = boxTerm(r.matches[0]!) + boxTerm(r.matches[1]!);
    // BCE with logit 0 is log 2 whatever the target: objectness is log 2 x the balance (4, 1, 0.4), the class
    // term log 2 on each level that has matches (two here).
    const lobj = Math.LN2 * (4 + 1 + 0.4);
    const lcls = 2 * Math.LN2;
    // hyp.scratch-low scaled as train.py does: box 0.05 x 3/3, obj 1.0 x (64/640)^2, cls 0.5 x 2/80; batch 1.
    // The terms carry their gains, as YOLOv5's loss items do.
    expect(r.box).toBeCloseTo(lbox * 0.05, 7);
    expect(r.obj).toBeCloseTo(lobj * 0.01, 9);
    expect(r.cls).toBeCloseTo(lcls * 0.5 * (2 / 80), 9);
    expect(r.loss).toBeCloseTo(lbox * 0.05 + lobj * 0.01 + lcls * 0.5 * (2 / 80), 9);
  });

  const python = pythonWithTorch();
  it.skipIf(!python)("matches the PyTorch twin of YOLOv5's ComputeLoss, loss and gradients", () => {
    const nc = 3;
    const imgsz = 128;
    const n = 2;
    const rng = new Rng('yolov5-loss');
    const levels = geometry(imgsz);
    const preds = levels.map((l) =>
      nd(
        [n, 3 * l.h * l.w, nc + 5],
        Array.from({ length: n * 3 * l.h * l.w * (nc + 5) }, () => 1.5 * rng.normal()),
      ),
    );
    // Per image up to 4 boxes (cls, x1, y1, x2, y2 px): two sharing cells, one at the border, a large one.
    const rows = [
      [0, 10, 14, 26, 38],
      [2, 11, 15, 25, 37],
      [1, 100, 90, 128, 128],
      [0, 40, 20, 120, 110],
      [1, 0, 0, 12, 20],
      [2, 60, 60, 76, 70],
    ];
    const image = [0, 0, 0, 0, 1, 1];
    const targets = new Float32Array(n * 4 * 6);
    const slot = [0, 0];
    rows.forEach((r, k) => {
      const b = image[k]!;
      targets.set([...r, 1], (b * 4 + slot[b]!++) * 6);
    });
    const ours = engineLoss(preds, targets, n, 4, nc, imgsz);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolov5-loss-'));
    try {
      const file = path.join(dir, 'case.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          nc,
          imgsz,
          strides: STRIDES,
          anchors: YOLOV5_ANCHORS,
          // The twin takes YOLOv5's [B, na, H, W, 5 + nc]: the same memory order as the rows.
          preds: preds.map((p, i) => {
            const { h, w } = levels[i]!;
            const a = Array.from(p.data);
            return Array.from({ length: n }, (_, b) =>
              Array.from({ length: 3 }, (_, an) =>
                Array.from({ length: h }, (_, y) =>
                  Array.from({ length: w }, (_, x) => {
                    const at = (((b * 3 + an) * h + y) * w + x) * (nc + 5);
                    return a.slice(at, at + nc + 5);
                  }),
                ),
              ),
            );
          }),
          targets: rows.map((r, k) => {
            const [c, x1, y1, x2, y2] = r as [number, number, number, number, number];
            return [image[k]!, c, (x1 + x2) / 2 / imgsz, (y1 + y2) / 2 / imgsz, (x2 - x1) / imgsz, (y2 - y1) / imgsz];
          }),
        }),
      );
      const p = spawnSync(python!, ['bench/reference/torch_yolov5.py', '--loss', file], {
        encoding: 'utf8',
        timeout: 120_000,
        killSignal: 'SIGKILL',
      });
      expect(p.status, p.stderr).toBe(0);
      const ref = JSON.parse(p.stdout) as { loss: number; lbox: number; lobj: number; lcls: number; grads: number[][] };
      expect(
        ours.matches.some((t) => t.owner.includes(0)),
        'a cell with two entries',
      ).toBe(true);
      expect(ours.box).toBeCloseTo(ref.lbox, 7);
      expect(ours.obj).toBeCloseTo(ref.lobj, 7);
      expect(ours.cls).toBeCloseTo(ref.lcls, 7);
      expect(ours.loss).toBeCloseTo(ref.loss, 7);
      let nonzero = 0;
      ours.grads.forEach((g, i) => {
        const r = ref.grads[i]!;
        expect(g.data.length).toBe(r.length);
        for (let k = 0; k < r.length; k++) {
          expect(Math.abs(g.data[k]! - r[k]!), `level ${i} element ${k}`).toBeLessThan(1e-7);
          if (Math.abs(r[k]!) > 1e-6) nonzero++;
        }
      });
      expect(nonzero).toBeGreaterThan(100);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
