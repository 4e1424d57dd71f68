import { apply1, axisOf, type OpDef, type Tensor } from '../ir.js';
import { reduce, type NdArray, mapN, broadcastIndex, nd } from '../ndarray.js';
import { cast, div, equal, exp, mul, sub } from './elementwise.js';
import { expand, reshape } from './shape.js';

/** Reductions (sum, mean, max) and softmax / log-softmax. */

interface ReduceAttrs {
  axes: number[];
  keepdims: boolean;
}

const keptShape = (shape: readonly number[], axes: readonly number[]) =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d));
const inferReduce: OpDef<ReduceAttrs>['infer'] = ([x], a) => [
  { shape: a.keepdims ? keptShape(x!.shape, a.axes) : x!.shape.filter((_, i) => !a.axes.includes(i)), dtype: x!.dtype },
];
/** Brings a reduced gradient back to the input's shape. */
const spread = (g: Tensor, x: Tensor, axes: number[]) => expand(reshape(g, keptShape(x.shape, axes)), x.shape);

const Sum: OpDef<ReduceAttrs> = {
  type: 'sum',
  infer: inferReduce,
  emit: (e, [x], o, a) => e.node('ReduceSum', [x!, e.int64s(a.axes)], o, { keepdims: { int: +a.keepdims } }),
  evaluate: ([x], a) => [reduce(x!, a.axes, a.keepdims, 0, (s, v) => s + v)],
  vjp: (node, [g]) => [spread(g!, node.inputs[0]!, (node.attrs as unknown as ReduceAttrs).axes)],
};
const Mean: OpDef<ReduceAttrs> = {
  type: 'mean',
  infer: inferReduce,
  emit: (e, i, o, a) => e.node('ReduceMean', i, o, { axes: { ints: a.axes }, keepdims: { int: +a.keepdims } }),
  evaluate: ([x], a) => [
    reduce(
      x!,
      a.axes,
      a.keepdims,
      0,
      (s, v) => s + v,
      (s, n) => s / n,
    ),
  ],
  vjp: (node, [g]) => {
    const x = node.inputs[0]!;
    const axes = (node.attrs as unknown as ReduceAttrs).axes;
    const n = axes.reduce((c, ax) => c * x.shape[ax]!, 1);
    return [div(spread(g!, x, axes), n)];
  },
};
const Max: OpDef<ReduceAttrs> = {
  type: 'max',
  infer: inferReduce,
  emit: (e, i, o, a) => e.node('ReduceMax', i, o, { axes: { ints: a.axes }, keepdims: { int: +a.keepdims } }),
  evaluate: ([x], a) => [reduce(x!, a.axes, a.keepdims, -Infinity, (s, v) => Math.max(s, v))],
  vjp: (node, [g]) => {
    // Ties share the gradient evenly (as torch.amax does).
    const x = node.inputs[0]!;
    const axes = (node.attrs as unknown as ReduceAttrs).axes;
    const mask = cast(equal(x, spread(node.outputs[0]!, x, axes)), 'float32');
    const count = spread(sum(mask, axes, true), x, axes);
    return [div(mul(mask, spread(g!, x, axes)), count)];
  },
};

function reducer(op: OpDef<ReduceAttrs>) {
  return (x: Tensor, axes?: number | number[], keepdims = false): Tensor => {
    const list = axes === undefined ? x.shape.map((_, i) => i) : Array.isArray(axes) ? axes : [axes];
    const norm = [...new Set(list.map((a) => axisOf(a, x.rank)))].sort((p, q) => p - q);
    return apply1(op, [x], { axes: norm, keepdims });
  };
}
export const sum = reducer(Sum);
export const mean = reducer(Mean);
export const max = reducer(Max);

// ---- softmax ----------------------------------------------------------------------------------------
function softmaxNd(x: NdArray, axis: number, log: boolean): NdArray {
  const m = reduce(x, [axis], true, -Infinity, (s, v) => Math.max(s, v));
  const shifted = mapN([x, m], (a, b) => a - b);
  const z = reduce(mapN([shifted], Math.exp), [axis], true, 0, (s, v) => s + v);
  const idx = broadcastIndex(z.shape, x.shape);
  const out = nd(x.shape);
  for (let i = 0; i < out.data.length; i++) {
    const zi = z.data[idx[i]!]!;
    out.data[i] = log ? shifted.data[i]! - Math.log(zi) : Math.exp(shifted.data[i]!) / zi;
  }
  return out;
}
const Softmax: OpDef<{ axis: number }> = {
  type: 'softmax',
  infer: ([x]) => [{ ...x! }],
  emit: (e, i, o, a) => e.node('Softmax', i, o, { axis: { int: a.axis } }),
  evaluate: ([x], a) => [softmaxNd(x!, a.axis, false)],
  vjp: (node, [g]) => {
    const y = node.outputs[0]!;
    const axis = (node.attrs as { axis: number }).axis;
    return [mul(y, sub(g!, sum(mul(g!, y), axis, true)))];
  },
};
const LogSoftmax: OpDef<{ axis: number }> = {
  type: 'logSoftmax',
  infer: ([x]) => [{ ...x! }],
  emit: (e, i, o, a) => e.node('LogSoftmax', i, o, { axis: { int: a.axis } }),
  evaluate: ([x], a) => [softmaxNd(x!, a.axis, true)],
  vjp: (node, [g]) => {
    const axis = (node.attrs as { axis: number }).axis;
    return [sub(g!, mul(exp(node.outputs[0]!), sum(g!, axis, true)))];
  },
};
export const softmax = (x: Tensor, axis = -1): Tensor => apply1(Softmax, [x], { axis: axisOf(axis, x.rank) });
export const logSoftmax = (x: Tensor, axis = -1): Tensor => apply1(LogSoftmax, [x], { axis: axisOf(axis, x.rank) });
