import { apply1, axisOf, type OpDef, type Tensor } from '../ir.js';
import { forEachIndex, nd, strides } from '../ndarray.js';
import { scatterAdd } from './pool.js';
import { reshape } from './shape.js';

/** Indexing: Gather, GatherElements (differentiable), and the forward-only TopK and ArgMax. */

const GatherElements: OpDef<{ axis: number }> = {
  type: 'gatherElements',
  infer: ([x, i]) => {
    if (i!.dtype !== 'int64') throw new Error('indices must be int64');
    if (i!.shape.length !== x!.shape.length) throw new Error('indices must have the rank of the data');
    return [{ shape: i!.shape, dtype: x!.dtype }];
  },
  emit: (e, i, o, a) => e.node('GatherElements', i, o, { axis: { int: a.axis } }),
  evaluate: ([x, i], a) => {
    const out = nd(i!.shape);
    const st = strides(x!.shape);
    forEachIndex(i!.shape, (c, k) => {
      let j = 0;
      for (let d = 0; d < c.length; d++) j += (d === a.axis ? i!.data[k]! : c[d]!) * st[d]!;
      out.data[k] = x!.data[j]!;
    });
    return [out];
  },
  vjp: (node, [g]) => {
    // Flat positions of every gathered element, then one scatter-add.
    const [x, idx] = node.inputs as [Tensor, Tensor];
    const axis = (node.attrs as { axis: number }).axis;
    return [reshape(scatterAdd(x.size, flatPositions(x.shape, idx, axis), reshape(g!, [-1])), x.shape), null];
  },
};
export const gatherElements = (x: Tensor, indices: Tensor, axis: number): Tensor =>
  apply1(GatherElements, [x, indices], { axis: axisOf(axis, x.rank) });

/** int64 flat indices into `shape` for GatherElements-style `idx` along `axis`, built from constants. */
function flatPositions(shape: readonly number[], idx: Tensor, axis: number): Tensor {
  const st = strides(shape);
  const base = nd(idx.shape);
  forEachIndex(idx.shape, (c, k) => {
    let j = 0;
    for (let d = 0; d < c.length; d++) if (d !== axis) j += c[d]! * st[d]!;
    base.data[k] = j;
  });
  const g = idx.graph;
  const scaled = apply1(MulInt, [idx, g.constant(nd([], [st[axis]!]), 'int64')], {});
  return reshape(apply1(AddInt, [scaled, g.constant(base, 'int64')], {}), [-1]);
}
const intBinary = (type: string, onnx: string, f: (a: number, b: number) => number): OpDef<Record<string, never>> => ({
  type,
  infer: ([a]) => [{ ...a! }],
  emit: (e, i, o) => e.node(onnx, i, o),
  evaluate: ([a, b]) => [
    { shape: [...a!.shape], data: a!.data.map((v, k) => f(v, b!.data.length === 1 ? b!.data[0]! : b!.data[k]!)) },
  ],
});
const MulInt = intBinary('mulInt', 'Mul', (a, b) => a * b);
const AddInt = intBinary('addInt', 'Add', (a, b) => a + b);

const Gather: OpDef<{ axis: number }> = {
  type: 'gather',
  infer: ([x, i], a) => {
    if (i!.dtype !== 'int64') throw new Error('indices must be int64');
    return [{ shape: [...x!.shape.slice(0, a.axis), ...i!.shape, ...x!.shape.slice(a.axis + 1)], dtype: x!.dtype }];
  },
  emit: (e, i, o, a) => e.node('Gather', i, o, { axis: { int: a.axis } }),
  evaluate: ([x, i], a) => {
    const outer = x!.shape.slice(0, a.axis).reduce((p, q) => p * q, 1);
    const inner = x!.shape.slice(a.axis + 1).reduce((p, q) => p * q, 1);
    const dim = x!.shape[a.axis]!;
    const out = nd([...x!.shape.slice(0, a.axis), ...i!.shape, ...x!.shape.slice(a.axis + 1)]);
    let k = 0;
    for (let o = 0; o < outer; o++)
      for (const raw of i!.data) {
        const j = raw < 0 ? raw + dim : raw;
        for (let q = 0; q < inner; q++) out.data[k++] = x!.data[(o * dim + j) * inner + q]!;
      }
    return [out];
  },
};
/** Gather along `axis` (ONNX Gather). Forward only: use gatherElements where a gradient is needed. */
export const gather = (x: Tensor, indices: Tensor, axis: number): Tensor =>
  apply1(Gather, [x, indices], { axis: axisOf(axis, x.rank) });

const TopK: OpDef<{ k: number; axis: number; largest: boolean }> = {
  type: 'topk',
  infer: ([x], a) => {
    if (a.k > x!.shape[a.axis]!) throw new Error(`k=${a.k} exceeds the axis size ${x!.shape[a.axis]}`);
    const shape = x!.shape.map((d, i) => (i === a.axis ? a.k : d));
    return [
      { shape, dtype: x!.dtype },
      { shape, dtype: 'int64' },
    ];
  },
  emit: (e, [x], o, a) =>
    e.node('TopK', [x!, e.int64s([a.k])], o, {
      axis: { int: a.axis },
      largest: { int: +a.largest },
      sorted: { int: 1 },
    }),
  evaluate: ([x], a) => {
    const shape = x!.shape.map((d, i) => (i === a.axis ? a.k : d));
    const vals = nd(shape);
    const idx = nd(shape);
    const dim = x!.shape[a.axis]!;
    const inner = x!.shape.slice(a.axis + 1).reduce((p, q) => p * q, 1);
    const outer = x!.data.length / (dim * inner);
    for (let o = 0; o < outer; o++)
      for (let q = 0; q < inner; q++) {
        const items = Array.from({ length: dim }, (_, j) => ({ v: x!.data[(o * dim + j) * inner + q]!, j }));
        // Stable: ties keep the lower index first, as onnxruntime does.
        items.sort((p, r) => (a.largest ? r.v - p.v : p.v - r.v) || p.j - r.j);
        for (let t = 0; t < a.k; t++) {
          vals.data[(o * a.k + t) * inner + q] = items[t]!.v;
          idx.data[(o * a.k + t) * inner + q] = items[t]!.j;
        }
      }
    return [vals, idx];
  },
};
/** Top-k values and indices along `axis` (forward only). */
export function topk(x: Tensor, k: number, axis = -1, largest = true): [Tensor, Tensor] {
  const [v, i] = x.graph.apply(TopK, [x], { k, axis: axisOf(axis, x.rank), largest });
  return [v!, i!];
}

const ArgMax: OpDef<{ axis: number; keepdims: boolean }> = {
  type: 'argmax',
  infer: ([x], a) => [
    {
      shape: a.keepdims ? x!.shape.map((d, i) => (i === a.axis ? 1 : d)) : x!.shape.filter((_, i) => i !== a.axis),
      dtype: 'int64',
    },
  ],
  emit: (e, i, o, a) =>
    e.node('ArgMax', i, o, { axis: { int: a.axis }, keepdims: { int: +a.keepdims }, select_last_index: { int: 0 } }),
  evaluate: ([x], a) => {
    const dim = x!.shape[a.axis]!;
    const inner = x!.shape.slice(a.axis + 1).reduce((p, q) => p * q, 1);
    const outer = x!.data.length / (dim * inner);
    const shape = a.keepdims ? x!.shape.map((d, i) => (i === a.axis ? 1 : d)) : x!.shape.filter((_, i) => i !== a.axis);
    const out = nd(shape);
    for (let o = 0; o < outer; o++)
      for (let q = 0; q < inner; q++) {
        let best = -Infinity;
        let at = 0;
        for (let j = 0; j < dim; j++) {
          const v = x!.data[(o * dim + j) * inner + q]!;
          if (v > best) {
            best = v;
            at = j;
          }
        }
        out.data[o * inner + q] = at;
      }
    return [out];
  },
};
export const argmax = (x: Tensor, axis = -1, keepdims = false): Tensor =>
  apply1(ArgMax, [x], { axis: axisOf(axis, x.rank), keepdims });
