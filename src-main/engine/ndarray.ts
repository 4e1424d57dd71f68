/**
 * A plain float64 n-d array for the engine's reference evaluation (tests, shape checks, constant folding).
 * Integer and boolean tensors are held as float64 values too; only the ONNX/ORT side uses real dtypes.
 */
export interface NdArray {
  shape: number[];
  data: Float64Array;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function nd(shape: readonly number[], data?: ArrayLike<number>): NdArray {
  const n = numel(shape);
  const out = new Float64Array(n);
  if (data) {
    if (data.length !== n) throw new Error(`data has ${data.length} values, shape [${shape.join(', ')}] needs ${n}`);
    out.set(data);
  }
  return { shape: [...shape], data: out };
}

export const scalar = (v: number): NdArray => nd([], [v]);

export function full(shape: readonly number[], v: number): NdArray {
  const a = nd(shape);
  a.data.fill(v);
  return a;
}

/** NumPy broadcasting of two shapes; throws naming both shapes when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** For each flat index of `outShape`, the flat index into an array of `shape` broadcast to it. */
export function broadcastIndex(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = numel(outShape);
  const idx = new Int32Array(n);
  const inStrides = strides(shape);
  const offset = outShape.length - shape.length;
  const outStrides = strides(outShape);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let j = 0;
    for (let d = 0; d < outShape.length; d++) {
      const coord = Math.floor(rem / outStrides[d]!);
      rem -= coord * outStrides[d]!;
      const k = d - offset;
      if (k >= 0 && shape[k]! !== 1) j += coord * inStrides[k]!;
    }
    idx[i] = j;
  }
  return idx;
}

export function mapN(inputs: readonly NdArray[], f: (...v: number[]) => number): NdArray {
  const shape = inputs.map((a) => a.shape).reduce((s, t) => broadcastShapes(s, t), [] as number[]);
  const out = nd(shape);
  const idx = inputs.map((a) => broadcastIndex(a.shape, shape));
  const vals = new Array<number>(inputs.length);
  for (let i = 0; i < out.data.length; i++) {
    for (let k = 0; k < inputs.length; k++) vals[k] = inputs[k]!.data[idx[k]![i]!]!;
    out.data[i] = f(...vals);
  }
  return out;
}

/** Reduces over `axes` (non-negative) with `init` and `step`; keeps the reduced axes as size 1 if keepdims. */
export function reduce(
  a: NdArray,
  axes: readonly number[],
  keepdims: boolean,
  init: number,
  step: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number = (x) => x,
): NdArray {
  const kept = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = full(kept, init);
  const idx = broadcastIndex(kept, a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[idx[i]!] = step(out.data[idx[i]!]!, a.data[i]!);
  const count = axes.reduce((c, ax) => c * a.shape[ax]!, 1);
  for (let i = 0; i < out.data.length; i++) out.data[i] = finish(out.data[i]!, count);
  return keepdims ? out : { shape: a.shape.filter((_, i) => !axes.includes(i)), data: out.data };
}

export function transposeNd(a: NdArray, perm: readonly number[]): NdArray {
  const shape = perm.map((p) => a.shape[p]!);
  const out = nd(shape);
  const inStrides = strides(a.shape);
  const outStrides = strides(shape);
  for (let i = 0; i < out.data.length; i++) {
    let rem = i;
    let j = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(rem / outStrides[d]!);
      rem -= c * outStrides[d]!;
      j += c * inStrides[perm[d]!]!;
    }
    out.data[i] = a.data[j]!;
  }
  return out;
}

/** Calls `f(coords, flatIndex)` for every element of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], f: (coords: number[], flat: number) => void): void {
  const n = numel(shape);
  const coords = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    f(coords, i);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coords[d]! < shape[d]!) break;
      coords[d] = 0;
    }
  }
}
