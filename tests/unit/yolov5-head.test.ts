/**
 * The yolov5 head through onnxruntime: its exported `raw` output is YOLOv5's decode of the level maps, written here
 * in plain loops; the `nms` style keeps what the `yolov5` decoder keeps (on random feature maps); and a YOLOv5n learns two shapes with the
 * objective's own feeds (the matching on the CPU, int64 match rows into the graph).
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src-main/engine/evaluate.js';
import { inferenceModel } from '../../src-main/engine/export.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd } from '../../src-main/engine/ndarray.js';
import { seedInit } from '../../src-main/engine/nn.js';
import { exportDetector } from '../../src-main/export/detector.js';
import { asOutputs, decode, detectLayout } from '../../src-main/inference/decode.js';
import type { AnchorDetect } from '../../src-main/models/heads/yolov5-detect.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Rng } from '../../src-main/util/random.js';
import { twoShapes } from '../helpers.js';

const SIZE = 64;
const NC = 2;

function images(batch: number): ort.Tensor {
  const rng = new Rng('yolov5-head-input');
  return new ort.Tensor(
    'float32',
    // Smooth structure at several scales plus noise: cells must differ, or untrained scores tie.
    Float32Array.from({ length: batch * 3 * SIZE * SIZE }, (_, i) => {
      const [x, y, c] = [i % SIZE, Math.floor(i / SIZE) % SIZE, Math.floor(i / SIZE / SIZE)];
      return 0.5 + 0.4 * Math.sin(x / (3 + c) + y / 11) * Math.cos(y / (5 + c)) + 0.1 * rng.float();
    }),
    [batch, 3, SIZE, SIZE],
  );
}

describe('yolov5 head export', () => {
  seedInit(3);
  const d = buildDetector({ model: 'yolov5', scale: 'n', backbone: 'yolov5', head: 'yolov5', nc: NC });
  const head = d.head as AnchorDetect;

  it("exports YOLOv5's decode of its level maps: [B, 3 x cells, 5 + nc]", async () => {
    const raw = exportDetector(d, { imgsz: SIZE, style: 'raw' });
    const levels = inferenceModel(d, {
      input: { name: 'images', shape: [1, 3, SIZE, SIZE] },
      outputs: (x) => Object.fromEntries(head.levels(d.features(x)).map((l, i) => [`l${i}`, l])),
    });
    const x = images(2);
    const out = (await (await ort.InferenceSession.create(raw.bytes)).run({ images: x })).output0!;
    const maps = await (await ort.InferenceSession.create(levels.bytes)).run({ images: x });
    const cells = [8, 4, 2].map((g) => 3 * g * g);
    expect(out.dims).toEqual([2, cells.reduce((a, b) => a + b), NC + 5]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const got = out.data as Float32Array;
    let row = 0;
    let worst = 0;
    for (let b = 0; b < 2; b++) {
      row = b * out.dims[1]!;
      [8, 16, 32].forEach((s, i) => {
        const m = maps[`l${i}`]!;
        const [, , h, w] = m.dims as number[];
        const v = m.data as Float32Array;
        for (let a = 0; a < 3; a++)
          for (let y = 0; y < h!; y++)
            for (let xx = 0; xx < w!; xx++, row++) {
              // Channel a * (5 + nc) + k of the map [B, 3 (5 + nc), H, W].
              const at = (k: number) => sig(v[((b * 3 * (NC + 5) + a * (NC + 5) + k) * h! + y) * w! + xx]!);
              const [aw, ah] = head.anchors[i]![a]!;
              const want = [
                (at(0) * 2 - 0.5 + xx) * s,
                (at(1) * 2 - 0.5 + y) * s,
                (at(2) * 2) ** 2 * aw,
                (at(3) * 2) ** 2 * ah,
                ...Array.from({ length: NC + 1 }, (_, k) => at(4 + k)),
              ];
              want.forEach((wv, k) => (worst = Math.max(worst, Math.abs(got[row * (NC + 5) + k]! - wv))));
            }
      });
    }
    expect(worst).toBeLessThan(1e-3);
    expect(detectLayout(asOutputs({ output0: out }))).toBe('yolov5');
  });

  it('keeps in its nms style what the yolov5 decoder keeps (obj x class, class-aware NMS)', () => {
    // The head alone on random feature maps, by the engine's reference evaluator: cells differ, scores do not tie.
    const rng = new Rng('yolov5-nms');
    const g = new Graph();
    const shapes = d.outputStrides.map((s, i) => [2, d.outputChannels[i]!, SIZE / s, SIZE / s]);
    const feats = shapes.map((sh, i) => g.input(`f${i}`, sh));
    const o = { conf: 0.5, iou: 0.45, maxDet: 100 };
    // Untrained objectness starts at 8 objects per 640 image; from 0 here, so that boxes pass the threshold.
    for (const m of head.m.items) (m as unknown as { bias: { data: Float32Array } }).bias.data.fill(0);
    d.eval();
    const raw = head.outputs(feats, 'raw').output0!;
    const nms = head.outputs(feats, 'nms', o).output0!;
    const feeds = Object.fromEntries(
      shapes.map((sh, i) => [
        `f${i}`,
        nd(
          sh,
          Array.from({ length: sh.reduce((p, q) => p * q) }, () => 2 * rng.normal()),
        ),
      ]),
    );
    for (const [name, t] of d.namedTensors()) feeds[name] = nd(t.shape, t.data);
    const [rawOut, nmsOut] = evaluate([raw, nms], feeds);
    expect(nmsOut!.shape).toEqual([2, 100, 6]);
    const got = nmsOut!.data;
    for (let b = 0; b < 2; b++) {
      const outputs = { output0: { dims: rawOut!.shape, data: Float32Array.from(rawOut!.data) } };
      const want = decode('yolov5', outputs, b, o);
      expect(want.length).toBeGreaterThan(5);
      expect(want.length).toBeLessThan(100);
      // Each kept box is one of the graph's rows, and the rest of the rows are zero padding.
      const rows = Array.from({ length: want.length }, (_, k) =>
        Array.from(got.subarray((b * 100 + k) * 6, (b * 100 + k) * 6 + 6)),
      );
      for (const det of want) {
        const [bx, by, bw, bh] = det.box;
        const v = [bx, by, bx + bw, by + bh, det.score, det.classId];
        const hit = rows.findIndex((r) => r.every((x, j) => Math.abs(x - v[j]!) < 1e-3));
        expect(hit, `box ${v.map((x) => x.toFixed(2)).join(' ')}`).toBeGreaterThanOrEqual(0);
        rows.splice(hit, 1);
      }
      expect(Array.from(got.subarray((b * 100 + want.length) * 6, (b * 100 + want.length) * 6 + 6))).toEqual([
        0, 0, 0, 0, 0, 0,
      ]);
    }
  });
});

describe('yolov5 head training', () => {
  it('lowers the loss on two shapes through onnxruntime with the objective feeds', async () => {
    const { TrainStep } = await import('../../src-main/engine/train-step.js');
    const { AdamW, paramGroups } = await import('../../src-main/engine/optim.js');
    const { Runner } = await import('../../src-main/runtime/session.js');
    const { objectiveFor } = await import('../../src-main/train/objectives/index.js');
    seedInit(5);
    const model = buildDetector({ model: 'yolov5', scale: 'n', backbone: 'yolov5', head: 'yolov5', nc: NC });
    const objective = objectiveFor(model, { imgsz: SIZE });
    const step = new TrainStep(new Runner({ device: 'cpu' }), model, (g, m, b, dims) => {
      const r = objective.loss(g, m as typeof model, g.input('images', [b, 3, SIZE, SIZE]), b, dims);
      return { loss: r.loss, terms: r.terms };
    });
    const { image: img, targets: box } = twoShapes();
    const batch = {
      files: ['a', 'b'],
      maxBoxes: 2,
      targets: Float32Array.from([...box, ...box]),
    } as unknown as Parameters<typeof objective.feeds>[0];
    const feeds = {
      images: { dtype: 'float32' as const, shape: [2, 3, SIZE, SIZE], data: Float32Array.from([...img, ...img]) },
      ...objective.feeds(batch),
    };
    const dims = objective.dims!(batch);
    expect(dims).toEqual({ rows: 64 });
    const opt = new AdamW(paramGroups(model, { lr: 0.002, weightDecay: 0, momentum: 0.9 }));
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await step.run(2, feeds, undefined, dims);
      expect(Number.isFinite(r.loss)).toBe(true);
      losses.push(r.loss);
      opt.update(r.grads);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.5 * mean(losses.slice(0, 5)));
  }, 180_000);
});
