import { apply1, axisOf, type OpDef, type Tensor } from '../ir.js';
import {
  broadcastIndex,
  broadcastShapes,
  forEachIndex,
  nd,
  numel,
  strides,
  transposeNd,
  type NdArray,
} from '../ndarray.js';
import { sumTo } from './elementwise.js';

/** Ops that move data without arithmetic: reshape, transpose, concat, split, slice, flip, pad, expand. */

// ---- reshape ----------------------------------------------------------------------------------------
const Reshape: OpDef<{ shape: number[] }> = {
  type: 'reshape',
  infer: ([x], a) => {
    if (numel(x!.shape) !== numel(a.shape))
      throw new Error(`cannot reshape ${numel(x!.shape)} values to [${a.shape.join(', ')}]`);
    return [{ shape: a.shape, dtype: x!.dtype }];
  },
  // A leading dimension kept from the input is written as 0 ("copy"), so batch-dynamic exports stay valid.
  emit: (e, [x], o, a, node) =>
    e.node('Reshape', [x!, e.int64s(a.shape.map((d, i) => (i === 0 && d === node.inputs[0]!.shape[0] ? 0 : d)))], o),
  evaluate: ([x], a) => [{ shape: [...a.shape], data: x!.data }],
  vjp: (node, [g]) => [reshape(g!, node.inputs[0]!.shape)],
};

/** Reshape with one -1 allowed. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const full = shape.map((d) => (d === -1 ? x.size / known : d));
  if (full.join() === x.shape.join()) return x;
  return apply1(Reshape, [x], { shape: full });
}

// ---- transpose --------------------------------------------------------------------------------------
const Transpose: OpDef<{ perm: number[] }> = {
  type: 'transpose',
  infer: ([x], a) => {
    if (a.perm.length !== x!.shape.length || [...a.perm].sort().some((p, i) => p !== i)) {
      throw new Error(`bad permutation [${a.perm.join(', ')}]`);
    }
    return [{ shape: a.perm.map((p) => x!.shape[p]!), dtype: x!.dtype }];
  },
  emit: (e, i, o, a) => e.node('Transpose', i, o, { perm: { ints: a.perm } }),
  evaluate: ([x], a) => [transposeNd(x!, a.perm)],
  vjp: (node, [g]) => {
    const perm = (node.attrs as { perm: number[] }).perm;
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g!, inverse)];
  },
};
export const transpose = (x: Tensor, perm: readonly number[]): Tensor =>
  perm.every((p, i) => p === i) ? x : apply1(Transpose, [x], { perm: [...perm] });

// ---- concat / split ---------------------------------------------------------------------------------
const Concat: OpDef<{ axis: number }> = {
  type: 'concat',
  infer: (xs, a) => {
    const first = xs[0]!;
    for (const x of xs) {
      if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a.axis && d !== first.shape[i])) {
        throw new Error(`shapes differ outside axis ${a.axis}`);
      }
    }
    const shape = [...first.shape];
    shape[a.axis] = xs.reduce((s, x) => s + x.shape[a.axis]!, 0);
    return [{ shape, dtype: first.dtype }];
  },
  emit: (e, i, o, a) => e.node('Concat', i, o, { axis: { int: a.axis } }),
  evaluate: (xs, a) => {
    const shape = [...xs[0]!.shape];
    shape[a.axis] = xs.reduce((s, x) => s + x.shape[a.axis]!, 0);
    const out = nd(shape);
    const outer = numel(shape.slice(0, a.axis));
    const inner = numel(shape.slice(a.axis + 1));
    let off = 0;
    for (const x of xs) {
      const len = x.shape[a.axis]! * inner;
      for (let o = 0; o < outer; o++)
        out.data.set(x.data.subarray(o * len, (o + 1) * len), o * shape[a.axis]! * inner + off);
      off += len;
    }
    return [out];
  },
  vjp: (node, [g]) =>
    split(
      g!,
      node.inputs.map((t) => t.shape[(node.attrs as { axis: number }).axis]!),
      (node.attrs as { axis: number }).axis,
    ),
};
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 1) return xs[0]!;
  return apply1(Concat, xs, { axis: axisOf(axis, xs[0]!.rank) });
}

const Split: OpDef<{ axis: number; sizes: number[] }> = {
  type: 'split',
  infer: ([x], a) => {
    if (a.sizes.reduce((s, v) => s + v, 0) !== x!.shape[a.axis]) {
      throw new Error(`sizes [${a.sizes.join(', ')}] do not add up to ${x!.shape[a.axis]}`);
    }
    return a.sizes.map((s) => ({ shape: x!.shape.map((d, i) => (i === a.axis ? s : d)), dtype: x!.dtype }));
  },
  emit: (e, [x], o, a) => e.node('Split', [x!, e.int64s(a.sizes)], o, { axis: { int: a.axis } }),
  evaluate: ([x], a) => {
    let start = 0;
    return a.sizes.map((s) => {
      const r = sliceNd(x!, [start], [start + s], [a.axis], [1]);
      start += s;
      return r;
    });
  },
  vjp: (node, gs) => {
    const axis = (node.attrs as { axis: number }).axis;
    const parts = node.outputs.map((o, i) => gs[i] ?? zerosLike(o));
    return [concat(parts, axis)];
  },
};
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  if (sizes.length === 1) return [x];
  return x.graph.apply(Split, [x], { axis: axisOf(axis, x.rank), sizes: [...sizes] });
}
/** Splits into `n` equal chunks (PyTorch `chunk` for divisible sizes). */
export const chunk = (x: Tensor, n: number, axis: number): Tensor[] =>
  split(x, new Array<number>(n).fill(x.shape[axisOf(axis, x.rank)]! / n), axis);

export function zerosLike(t: Tensor): Tensor {
  return expand(t.graph.constant(nd([], [0]), t.dtype), t.shape);
}

// ---- slice / flip -----------------------------------------------------------------------------------
interface SliceAttrs {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

/** Clamped start/end per ONNX semantics, and the resulting length. */
function sliceRange(dim: number, start: number, end: number, step: number): { s: number; len: number } {
  const norm = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + dim : v));
  if (step > 0) {
    const s = norm(start, 0, dim);
    const e = norm(end, 0, dim);
    return { s, len: Math.max(0, Math.ceil((e - s) / step)) };
  }
  const s = norm(start, -1, dim - 1);
  const e = norm(end, -1, dim - 1);
  return { s, len: Math.max(0, Math.ceil((e - s) / step)) };
}

export function sliceNd(x: NdArray, starts: number[], ends: number[], axes: number[], steps: number[]): NdArray {
  const first = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const shape = [...x.shape];
  axes.forEach((ax, k) => {
    const r = sliceRange(x.shape[ax]!, starts[k]!, ends[k]!, steps[k]!);
    first[ax] = r.s;
    step[ax] = steps[k]!;
    shape[ax] = r.len;
  });
  const out = nd(shape);
  const st = strides(x.shape);
  forEachIndex(shape, (c, i) => {
    let j = 0;
    for (let d = 0; d < c.length; d++) j += (first[d]! + c[d]! * step[d]!) * st[d]!;
    out.data[i] = x.data[j]!;
  });
  return out;
}

const Slice: OpDef<SliceAttrs> = {
  type: 'slice',
  infer: ([x], a) => {
    const shape = [...x!.shape];
    a.axes.forEach((ax, k) => {
      if (a.steps[k] === 0) throw new Error('slice step cannot be 0');
      shape[ax] = sliceRange(x!.shape[ax]!, a.starts[k]!, a.ends[k]!, a.steps[k]!).len;
    });
    return [{ shape, dtype: x!.dtype }];
  },
  emit: (e, [x], o, a) =>
    e.node('Slice', [x!, e.int64s(a.starts), e.int64s(a.ends), e.int64s(a.axes), e.int64s(a.steps)], o),
  evaluate: ([x], a) => [sliceNd(x!, a.starts, a.ends, a.axes, a.steps)],
  vjp: (node, [g]) => {
    const x = node.inputs[0]!;
    const a = node.attrs as unknown as SliceAttrs;
    if (a.steps.some((s) => s !== 1)) {
      if (
        a.steps.every((s) => s === -1) &&
        a.axes.every((ax, k) => sliceRange(x.shape[ax]!, a.starts[k]!, a.ends[k]!, -1).len === x.shape[ax])
      ) {
        return [flip(g!, a.axes)];
      }
      throw new Error('the gradient of a strided slice is not supported');
    }
    const pads = new Array<number>(2 * x.rank).fill(0);
    a.axes.forEach((ax, k) => {
      const r = sliceRange(x.shape[ax]!, a.starts[k]!, a.ends[k]!, 1);
      pads[ax] = r.s;
      pads[ax + x.rank] = x.shape[ax]! - r.s - r.len;
    });
    return [pad(g!, pads)];
  },
};
/** x[starts:ends:steps] along `axes` (ONNX Slice semantics: negative indices count from the end). */
export function slice(x: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[]): Tensor {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => axisOf(a, x.rank));
  const st = steps ?? starts.map(() => 1);
  // A slice that keeps everything (e.g. im2col of a 1x1, stride-1 conv) is no node at all.
  const whole = ax.every((a, k) => st[k] === 1 && sliceRange(x.shape[a]!, starts[k]!, ends[k]!, 1).len === x.shape[a]);
  if (whole) return x;
  return apply1(Slice, [x], { starts, ends, axes: ax, steps: st });
}
/** Reverses `axes` (a full slice with step -1). */
export const flip = (x: Tensor, axes: number[]): Tensor =>
  slice(
    x,
    axes.map(() => -1),
    axes.map(() => -Number.MAX_SAFE_INTEGER),
    axes,
    axes.map(() => -1),
  );

// ---- pad --------------------------------------------------------------------------------------------
const Pad: OpDef<{ pads: number[]; value: number }> = {
  type: 'pad',
  infer: ([x], a) => {
    const r = x!.shape.length;
    if (a.pads.length !== 2 * r) throw new Error(`pads needs ${2 * r} values`);
    if (a.pads.some((p) => p < 0)) throw new Error('negative pads are not supported; use slice');
    return [{ shape: x!.shape.map((d, i) => d + a.pads[i]! + a.pads[i + r]!), dtype: x!.dtype }];
  },
  emit: (e, [x], o, a) =>
    e.node('Pad', [x!, e.int64s(a.pads), e.floats([a.value], [])], o, { mode: { string: 'constant' } }),
  evaluate: ([x], a) => {
    const r = x!.shape.length;
    const shape = x!.shape.map((d, i) => d + a.pads[i]! + a.pads[i + r]!);
    const out = nd(shape);
    out.data.fill(a.value);
    const st = strides(shape);
    forEachIndex(x!.shape, (c, i) => {
      let j = 0;
      for (let d = 0; d < r; d++) j += (c[d]! + a.pads[d]!) * st[d]!;
      out.data[j] = x!.data[i]!;
    });
    return [out];
  },
  vjp: (node, [g]) => {
    const x = node.inputs[0]!;
    const pads = (node.attrs as { pads: number[] }).pads;
    return [
      slice(
        g!,
        x.shape.map((_, i) => pads[i]!),
        x.shape.map((d, i) => pads[i]! + d),
        x.shape.map((_, i) => i),
      ),
    ];
  },
};
/** Constant padding; `pads` = [begin_0, ..., begin_n, end_0, ..., end_n] (ONNX order). */
export const pad = (x: Tensor, pads: number[], value = 0): Tensor =>
  pads.every((p) => p === 0) ? x : apply1(Pad, [x], { pads, value });

// ---- expand -----------------------------------------------------------------------------------------
const Expand: OpDef<{ shape: number[] }> = {
  type: 'expand',
  infer: ([x], a) => [{ shape: broadcastShapes(x!.shape, a.shape), dtype: x!.dtype }],
  // Dimensions the input already has are written as 1 (broadcast keeps them), so batch-dynamic exports stay valid.
  emit: (e, [x], o, a, node) => {
    const inShape = node.inputs[0]!.shape;
    const off = a.shape.length - inShape.length;
    e.node('Expand', [x!, e.int64s(a.shape.map((d, i) => (i >= off && inShape[i - off] === d ? 1 : d)))], o);
  },
  evaluate: ([x], a) => {
    const shape = broadcastShapes(x!.shape, a.shape);
    const idx = broadcastIndex(x!.shape, shape);
    const out = nd(shape);
    for (let i = 0; i < out.data.length; i++) out.data[i] = x!.data[idx[i]!]!;
    return [out];
  },
  vjp: (node, [g]) => [sumTo(g!, node.inputs[0]!.shape)],
};
export const expand = (x: Tensor, shape: readonly number[]): Tensor =>
  x.shape.join() === shape.join() ? x : apply1(Expand, [x], { shape: [...shape] });

export const unsqueeze = (x: Tensor, axis: number): Tensor => {
  const shape = [...x.shape];
  shape.splice(axis < 0 ? axis + x.rank + 1 : axis, 0, 1);
  return reshape(x, shape);
};
export const flatten = (x: Tensor, startAxis = 1): Tensor => reshape(x, [...x.shape.slice(0, startAxis), -1]);

/** ShuffleNet's channel shuffle: [N, g, C/g, H, W] -> swap the group axes -> [N, C, H, W]. */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (c % groups) throw new Error(`channelShuffle: ${c} channels do not split into ${groups} groups`);
  return reshape(transpose(reshape(x, [n, groups, c / groups, h, w]), [0, 2, 1, 3, 4]), [n, c, h, w]);
}
