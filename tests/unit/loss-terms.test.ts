import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../src-main/engine/autodiff.js';
import { evaluate } from '../../src-main/engine/evaluate.js';
import * as F from '../../src-main/engine/functional.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd } from '../../src-main/engine/ndarray.js';
import { writeOnnx } from '../../src-main/engine/onnx-writer.js';
import { bceWithLogits, ciou, dfl } from '../../src-main/train/loss-terms.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('loss terms', () => {
  it('BCE with logits equals the textbook formula, stably for large logits', () => {
    const g = new Graph();
    const x = g.input('x', [4]);
    const z = g.input('z', [4]);
    const [y] = evaluate([bceWithLogits(x, z)], { x: nd([4], [-3, 0, 2.5, 60]), z: nd([4], [0, 1, 0.3, 1]) });
    const expected = [-3, 0, 2.5].map((v, i) => {
      const t = [0, 1, 0.3][i]!;
      return -(t * Math.log(sigmoid(v)) + (1 - t) * Math.log(1 - sigmoid(v)));
    });
    expected.forEach((e, i) => expect(y!.data[i]).toBeCloseTo(e, 12));
    expect(y!.data[3]).toBeCloseTo(0, 12); // logit 60, target 1: no overflow
  });

  it('CIoU matches hand-computed values and runs the same in onnxruntime', async () => {
    const g = new Graph();
    const a = g.input('a', [3, 4]);
    const b = g.input('b', [3, 4]);
    const c = ciou(a, b);
    const feeds = {
      a: nd([3, 4], [0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10]),
      b: nd([3, 4], [0, 0, 10, 10, 5, 0, 15, 10, 20, 20, 30, 40]),
    };
    const [ref] = evaluate([c], feeds);
    expect(ref!.data[0]).toBeCloseTo(1, 5); // identical boxes
    // Overlap 50 of 150, centres 10 apart, enclosing box 15 x 10: 1/3 - 25/325; same aspect, so v = 0.
    expect(ref!.data[1]).toBeCloseTo(1 / 3 - 25 / 325, 5);
    expect(ref!.data[2]).toBeLessThan(0); // disjoint: distance penalty only
    const s = await ort.InferenceSession.create(writeOnnx({ graph: g, outputs: { c } }));
    const out = await s.run({
      a: new ort.Tensor('float32', Float32Array.from(feeds.a.data), [3, 4]),
      b: new ort.Tensor('float32', Float32Array.from(feeds.b.data), [3, 4]),
    });
    Array.from(out.c!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(ref!.data[i]!, 5));
  });

  it('CIoU gradients move a predicted box toward its target (alpha detached)', () => {
    const g = new Graph();
    const p = g.input('p', [1, 4]);
    const t = g.constant(nd([1, 4], [10, 10, 30, 20]));
    const loss = F.sum(F.sub(1, ciou(p, t)));
    const [grad] = evaluate(gradients(loss, [p]), { p: nd([1, 4], [12, 11, 34, 25]) });
    // Moving each edge toward the target lowers the loss: x1 down (positive grad), x2 down, y2 down.
    expect(grad!.data[0]).toBeGreaterThan(0);
    expect(grad!.data[2]).toBeGreaterThan(0);
    expect(grad!.data[3]).toBeGreaterThan(0);
  });

  it('DFL splits the target between its two neighbouring bins (Ultralytics DFLoss)', () => {
    const g = new Graph();
    const logits = g.input('l', [2, 4]);
    const target = g.input('t', [2]);
    const l = [0.1, 1.2, -0.3, 0.5, 2, 0, 0, 1];
    const loss = dfl(logits, target);
    const [y] = evaluate([loss], { l: nd([2, 4], l), t: nd([2], [1.3, 2]) });
    const logSoftmax = (row: number[]) => {
      const m = Math.max(...row);
      const z = Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) + m;
      return row.map((v) => v - z);
    };
    const a = logSoftmax(l.slice(0, 4));
    const b = logSoftmax(l.slice(4));
    expect(y!.data[0]).toBeCloseTo(-(0.7 * a[1]! + 0.3 * a[2]!), 10);
    expect(y!.data[1]).toBeCloseTo(-b[2]!, 10); // an integer target sits on one bin
    // Gradient w.r.t. the logits: softmax minus the two-bin target distribution.
    const [gl] = evaluate(gradients(F.sum(loss), [logits]), { l: nd([2, 4], l), t: nd([2], [1.3, 2]) });
    const sm = a.map(Math.exp);
    [sm[0]!, sm[1]! - 0.7, sm[2]! - 0.3, sm[3]!].forEach((v, i) => expect(gl!.data[i]).toBeCloseTo(v, 10));
  });
});
