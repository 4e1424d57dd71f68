import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../src-main/engine/autodiff.js';
import { evaluate } from '../../src-main/engine/evaluate.js';
import * as F from '../../src-main/engine/functional.js';
import { Graph, type Tensor } from '../../src-main/engine/ir.js';
import { nd, type NdArray } from '../../src-main/engine/ndarray.js';
import { writeOnnx } from '../../src-main/engine/onnx-writer.js';
import { Rng } from '../../src-main/util/random.js';

/**
 * Every op, three ways: (1) onnxruntime runs the emitted ONNX and matches the float64 reference evaluation;
 * (2) the vjp, evaluated in float64, matches central finite differences; (3) the backward graph itself runs in
 * onnxruntime and matches the reference.
 */

interface Case {
  name: string;
  inputs: number[][];
  build: (...xs: Tensor[]) => Tensor;
  /** Input generator: defaults to N(0,1); `away` keeps values away from kinks (relu at 0, ...). */
  init?: (rng: Rng, i: number) => number;
  /** Inputs not to differentiate (indices, conditions). */
  noGrad?: number[];
  fdTol?: number;
}

const awayFromZero = (rng: Rng) => {
  const v = rng.normal();
  return Math.sign(v) * (0.2 + Math.abs(v));
};

const cases: Case[] = [
  { name: 'add broadcast', inputs: [[2, 3], [3]], build: (a, b) => F.add(a, b) },
  {
    name: 'sub broadcast',
    inputs: [
      [2, 1, 3],
      [4, 1],
    ],
    build: (a, b) => F.sub(a, b),
  },
  {
    name: 'mul',
    inputs: [
      [2, 3],
      [2, 3],
    ],
    build: (a, b) => F.mul(a, b),
  },
  {
    name: 'div',
    inputs: [
      [2, 3],
      [1, 3],
    ],
    build: (a, b) => F.div(a, b),
    init: awayFromZero,
  },
  {
    name: 'pow',
    inputs: [[5], [5]],
    build: (a, b) => F.pow(a, b),
    init: (r, i) => (i === 0 ? r.range(0.5, 2) : r.range(-2, 2)),
  },
  { name: 'pow scalar', inputs: [[5]], build: (a) => F.pow(a, 3) },
  { name: 'maximum', inputs: [[6], [6]], build: (a, b) => F.maximum(a, b) },
  { name: 'minimum', inputs: [[6], [1]], build: (a, b) => F.minimum(a, b) },
  { name: 'neg exp', inputs: [[4]], build: (a) => F.exp(F.neg(a)) },
  { name: 'log', inputs: [[4]], build: (a) => F.log(a), init: (r) => r.range(0.5, 3) },
  { name: 'sqrt', inputs: [[4]], build: (a) => F.sqrt(a), init: (r) => r.range(0.5, 3) },
  { name: 'abs', inputs: [[5]], build: (a) => F.abs(a), init: awayFromZero },
  {
    name: 'clamp',
    inputs: [[8]],
    build: (a) => F.clamp(a, -0.5, 0.7),
    init: (r) => r.pick([-1, -0.2, 0.3, 1.1]) + r.range(-0.05, 0.05),
  },
  { name: 'where', inputs: [[6], [6]], build: (a, b) => F.where(F.greater(a, 0), a, b), init: awayFromZero },
  { name: 'relu', inputs: [[6]], build: F.relu, init: awayFromZero },
  { name: 'relu6', inputs: [[6]], build: F.relu6, init: (r) => r.pick([-1, 1, 3, 7]) + r.range(-0.3, 0.3) },
  { name: 'sigmoid', inputs: [[6]], build: F.sigmoid },
  { name: 'silu', inputs: [[6]], build: F.silu },
  {
    name: 'hardsigmoid',
    inputs: [[6]],
    build: F.hardsigmoid,
    init: (r) => r.pick([-4, -1, 1, 4]) + r.range(-0.5, 0.5),
  },
  { name: 'hardswish', inputs: [[6]], build: F.hardswish, init: (r) => r.pick([-4, -1, 1, 4]) + r.range(-0.5, 0.5) },
  { name: 'leakyRelu', inputs: [[6]], build: (a) => F.leakyRelu(a, 0.1), init: awayFromZero },
  { name: 'gelu', inputs: [[6]], build: F.gelu },
  { name: 'tanh', inputs: [[6]], build: F.tanh },
  { name: 'atan', inputs: [[6]], build: F.atan },
  { name: 'reshape transpose', inputs: [[2, 3, 4]], build: (a) => F.transpose(F.reshape(a, [4, 6]), [1, 0]) },
  {
    name: 'concat',
    inputs: [
      [2, 3],
      [2, 2],
    ],
    build: (a, b) => F.concat([a, b], 1),
  },
  {
    name: 'split',
    inputs: [[2, 5]],
    build: (a) => {
      const [p, q] = F.split(a, [2, 3], 1);
      return F.mul(F.sum(p!, 1), F.sum(q!, 1));
    },
  },
  { name: 'chunk one used', inputs: [[4, 3]], build: (a) => F.chunk(a, 2, 0)[1]! },
  { name: 'channelShuffle', inputs: [[1, 6, 2, 2]], build: (a) => F.channelShuffle(a, 3) },
  { name: 'linear', inputs: [[3, 4], [5, 4], [5]], build: (x, w, b) => F.linear(x, w, b) },
  { name: 'slice', inputs: [[4, 5]], build: (a) => F.slice(a, [1, 1], [3, -1]) },
  { name: 'flip', inputs: [[3, 4]], build: (a) => F.flip(a, [1]) },
  { name: 'pad', inputs: [[2, 3]], build: (a) => F.pad(a, [1, 0, 0, 2]) },
  { name: 'expand', inputs: [[3, 1]], build: (a) => F.expand(a, [2, 3, 4]) },
  { name: 'sum', inputs: [[2, 3, 4]], build: (a) => F.sum(a, [0, 2]) },
  { name: 'mean keepdims', inputs: [[2, 3, 4]], build: (a) => F.mean(a, [1], true) },
  { name: 'max', inputs: [[3, 4]], build: (a) => F.max(a, 1) },
  { name: 'softmax', inputs: [[2, 5]], build: (a) => F.softmax(a, 1) },
  { name: 'logSoftmax', inputs: [[2, 5]], build: (a) => F.logSoftmax(a, 0) },
  {
    name: 'matmul batched broadcast',
    inputs: [
      [2, 3, 4],
      [4, 5],
    ],
    build: F.matmul,
  },
  {
    name: 'matmul 4d',
    inputs: [
      [2, 2, 3, 4],
      [2, 2, 4, 2],
    ],
    build: F.matmul,
  },
  {
    name: 'conv 3x3',
    inputs: [[2, 3, 6, 5], [4, 3, 3, 3], [4]],
    build: (x, w, b) => F.conv2d(x, w, b, { padding: 1 }),
  },
  {
    name: 'conv 3x3 stride 2',
    inputs: [
      [2, 3, 7, 6],
      [4, 3, 3, 3],
    ],
    build: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1 }),
  },
  {
    name: 'conv 1x1',
    inputs: [
      [2, 4, 3, 3],
      [5, 4, 1, 1],
    ],
    build: (x, w) => F.conv2d(x, w),
  },
  {
    name: 'conv 1x1 stride 2',
    inputs: [
      [1, 3, 5, 5],
      [2, 3, 1, 1],
    ],
    build: (x, w) => F.conv2d(x, w, null, { stride: 2 }),
  },
  {
    name: 'conv depthwise 7x7',
    inputs: [
      [2, 3, 8, 8],
      [3, 1, 7, 7],
    ],
    build: (x, w) => F.conv2d(x, w, null, { padding: 3, groups: 3 }),
  },
  {
    name: 'conv depthwise stride 2',
    inputs: [
      [2, 4, 7, 7],
      [4, 1, 3, 3],
    ],
    build: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 4 }),
  },
  {
    name: 'conv grouped',
    inputs: [
      [1, 4, 5, 5],
      [6, 2, 3, 3],
    ],
    build: (x, w) => F.conv2d(x, w, null, { padding: 1, groups: 2 }),
  },
  {
    name: 'conv dilated asym pad',
    inputs: [
      [1, 2, 7, 6],
      [3, 2, 3, 2],
    ],
    build: (x, w) => F.conv2d(x, w, null, { dilation: 2, padding: [2, 1, 1, 0] }),
  },
  // The k x k weight gradient's im2col is a grouped Conv with one-hot kernels: with dilation, asymmetric pads, stride
  // and groups.
  {
    name: 'conv dilated asym pad stride 2',
    inputs: [
      [1, 2, 9, 8],
      [3, 2, 3, 2],
    ],
    build: (x, w) => F.conv2d(x, w, null, { stride: 2, dilation: 2, padding: [2, 1, 1, 0] }),
  },
  {
    name: 'conv grouped stride 2',
    inputs: [
      [1, 4, 7, 7],
      [6, 2, 3, 3],
    ],
    build: (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1, groups: 2 }),
  },
  {
    name: 'convTranspose stride 2',
    inputs: [[2, 3, 3, 3], [3, 2, 3, 3], [2]],
    build: (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: [1, 1] }),
  },
  { name: 'maxPool', inputs: [[2, 2, 5, 5]], build: (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }) },
  { name: 'maxPool sppf', inputs: [[1, 2, 6, 6]], build: (x) => F.maxPool2d(x, 5, { stride: 1, padding: 2 }) },
  { name: 'avgPool', inputs: [[1, 2, 4, 4]], build: (x) => F.avgPool2d(x, 2) },
  { name: 'globalAvgPool', inputs: [[2, 3, 4, 4]], build: F.globalAvgPool },
  { name: 'upsample x2', inputs: [[1, 2, 3, 2]], build: F.upsampleNearest2x },
  {
    name: 'batchnorm train',
    inputs: [[3, 2, 3, 3], [2], [2]],
    build: (x, g, b) => {
      const gr = x.graph;
      const rm = gr.constant(nd([2], [0.1, -0.2]));
      const rv = gr.constant(nd([2], [1.5, 0.7]));
      const r = F.batchNorm2d(x, g, b, rm, rv, { training: true });
      return F.add(F.sum(r.y), F.mul(F.sum(F.mul(r.runningVar!, r.runningMean!)), 1));
    },
  },
  {
    name: 'batchnorm eval (frozen statistics)',
    inputs: [[2, 3, 2, 2], [3], [3]],
    build: (x, g, b) => {
      const gr = x.graph;
      return F.batchNorm2d(x, g, b, gr.constant(nd([3], [0.1, -0.2, 0.3])), gr.constant(nd([3], [1.5, 0.7, 2])), {
        training: false,
      }).y;
    },
  },
  {
    name: 'gatherElements',
    inputs: [
      [3, 4],
      [3, 2],
    ],
    noGrad: [1],
    init: (r, i) => (i === 1 ? r.int(0, 3) : r.normal()),
    build: (x, i) => F.gatherElements(x, F.cast(i, 'int64'), 1),
  },
];

function randomInputs(c: Case, seed: string): NdArray[] {
  const rng = new Rng('ops', seed);
  return c.inputs.map((shape, i) => {
    const a = nd(shape);
    for (let k = 0; k < a.data.length; k++) a.data[k] = c.init ? c.init(rng, i) : rng.normal();
    return a;
  });
}

/** Builds loss = sum(op(inputs) * r) so every output element gets a distinct weight. */
function buildCase(c: Case, rng: Rng) {
  const g = new Graph();
  const xs = c.inputs.map((s, i) => g.input(`x${i}`, s));
  const y = c.build(...xs);
  const r = nd(y.shape);
  for (let k = 0; k < r.data.length; k++) r.data[k] = rng.range(-1, 1);
  const loss = F.sum(F.mul(y, g.constant(r)));
  return { g, xs, y, loss };
}

const f32 = (a: NdArray) => Float32Array.from(a.data);

async function runOrt(model: Uint8Array, feeds: Record<string, NdArray>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', f32(v), v.shape);
  const out = await session.run(ortFeeds);
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
  await session.release();
  return res;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const err = Math.abs(actual[i]! - e) / Math.max(1, Math.abs(e));
    worst = Math.max(worst, err);
  }
  expect(worst, `${what}: max relative error`).toBeLessThan(tol);
}

describe('engine ops', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const rng = new Rng('case', c.name);
      const { xs, y, loss } = buildCase(c, rng);
      const inputs = randomInputs(c, c.name);
      const feeds = Object.fromEntries(inputs.map((a, i) => [`x${i}`, a]));
      // Integer-valued inputs are fed as float32 and cast inside the graph (see gatherElements).

      // (1) forward: onnxruntime vs reference
      const [yRef] = evaluate([y], feeds);
      const wrt = xs.filter((_, i) => !c.noGrad?.includes(i));
      const grads = gradients(loss, wrt);
      const model = writeOnnx({
        graph: y.graph,
        outputs: { y, ...Object.fromEntries(grads.map((g, i) => [`g${i}`, g])) },
      });
      const ortOut = await runOrt(model, feeds);
      expectClose(ortOut.y!, yRef!.data, 1e-4, `${c.name} forward`);

      // (2) gradients: reference vjp vs central finite differences, in float64
      const gRef = evaluate(grads, feeds);
      const eps = 1e-6;
      wrt.forEach((t, gi) => {
        const idx = xs.indexOf(t);
        const x = inputs[idx]!;
        const fd = new Float64Array(x.data.length);
        for (let k = 0; k < x.data.length; k++) {
          const v = x.data[k]!;
          x.data[k] = v + eps;
          const up = evaluate([loss], feeds)[0]!.data[0]!;
          x.data[k] = v - eps;
          const down = evaluate([loss], feeds)[0]!.data[0]!;
          x.data[k] = v;
          fd[k] = (up - down) / (2 * eps);
        }
        expectClose(gRef[gi]!.data, fd, c.fdTol ?? 1e-5, `${c.name} d/dx${idx} vs finite differences`);
        // (3) the backward graph in onnxruntime
        expectClose(ortOut[`g${gi}`]!, gRef[gi]!.data, 1e-3, `${c.name} d/dx${idx} onnxruntime`);
      });
    });
  }

  it('topk and argmax run forward and refuse gradients', async () => {
    const g = new Graph();
    const x = g.input('x', [2, 5]);
    const [vals, idx] = F.topk(x, 3, 1);
    const am = F.argmax(x, 1);
    const feeds = { x: nd([2, 5], [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]) };
    const [v, i, a] = evaluate([vals, idx, am], feeds);
    expect(Array.from(v!.data)).toEqual([5, 4, 3, 9, 6, 5]);
    expect(Array.from(i!.data)).toEqual([4, 2, 0, 0, 2, 3]);
    expect(Array.from(a!.data)).toEqual([4, 0]);
    const session = await ort.InferenceSession.create(writeOnnx({ graph: g, outputs: { v: vals, i: idx, a: am } }));
    const out = await session.run({ x: new ort.Tensor('float32', f32(feeds.x), [2, 5]) });
    expect(Array.from(out.v!.data as Float32Array)).toEqual([5, 4, 3, 9, 6, 5]);
    expect(Array.from(out.i!.data as BigInt64Array, Number)).toEqual([4, 2, 0, 0, 2, 3]);
    expect(() => gradients(F.sum(vals), [x])).toThrow(/topk is not differentiable/);
  });

  it('detach passes values and blocks gradients', () => {
    const g = new Graph();
    const x = g.input('x', [3]);
    const [grad] = evaluate(gradients(F.sum(F.mul(x, F.detach(x))), [x]), { x: nd([3], [1, -2, 3]) });
    expect(Array.from(grad!.data)).toEqual([1, -2, 3]); // d/dx (x * const) = const, not 2x
  });

  it('reports shape errors with the op and the input shapes', () => {
    const g = new Graph();
    const a = g.input('a', [2, 3]);
    const b = g.input('b', [4, 5]);
    expect(() => F.matmul(a, b)).toThrow(/matmul: inner dimensions 3 and 4 differ \(inputs \[2, 3\], \[4, 5\]\)/);
    expect(() => F.add(a, b)).toThrow(/add: shapes \[2, 3\] and \[4, 5\] do not broadcast/);
    expect(() => F.reshape(a, [5])).toThrow(/cannot reshape 6 values/);
    const x = g.input('x', [1, 2, 4, 4]);
    const w = g.input('w', [2, 3, 3, 3]);
    expect(() => F.convTranspose2d(x, w, null, { dilation: 2, padding: 1, outputPadding: [1, 1] })).toThrow(
      /outputPadding \[1, 1\] must be below the stride \[1, 1\]/,
    );
  });
});
