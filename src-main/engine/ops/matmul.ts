import { apply1, type OpDef, type Tensor } from '../ir.js';
import { broadcastIndex, broadcastShapes, nd } from '../ndarray.js';
import { add, sumTo } from './elementwise.js';
import { transpose } from './shape.js';

/** Batched matrix multiply (ONNX MatMul: batch dimensions broadcast; both operands rank >= 2). */

const swapLast = (t: Tensor) => {
  const perm = t.shape.map((_, i) => i);
  [perm[t.rank - 2], perm[t.rank - 1]] = [perm[t.rank - 1]!, perm[t.rank - 2]!];
  return transpose(t, perm);
};

const MatMul: OpDef<Record<string, never>> = {
  type: 'matmul',
  infer: ([a, b]) => {
    if (a!.shape.length < 2 || b!.shape.length < 2) throw new Error('operands need rank >= 2');
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const [k2, n] = b!.shape.slice(-2) as [number, number];
    if (k !== k2) throw new Error(`inner dimensions ${k} and ${k2} differ`);
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return [{ shape: [...batch, m, n], dtype: 'float32' }];
  },
  emit: (e, i, o) => e.node('MatMul', i, o),
  evaluate: ([a, b]) => {
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const n = b!.shape.at(-1)!;
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    const nb = batch.reduce((x, y) => x * y, 1);
    const ia = broadcastIndex(a!.shape.slice(0, -2), batch);
    const ib = broadcastIndex(b!.shape.slice(0, -2), batch);
    const out = nd([...batch, m, n]);
    for (let t = 0; t < nb; t++) {
      const oa = ia[t]! * m * k;
      const ob = ib[t]! * k * n;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < k; q++) s += a!.data[oa + i * k + q]! * b!.data[ob + q * n + j]!;
          out.data[t * m * n + i * n + j] = s;
        }
    }
    return [out];
  },
  vjp: (node, [g]) => {
    const [a, b] = node.inputs as [Tensor, Tensor];
    return [sumTo(matmul(g!, swapLast(b)), a.shape), sumTo(matmul(swapLast(a), g!), b.shape)];
  },
};

export const matmul = (a: Tensor, b: Tensor): Tensor => apply1(MatMul, [a, b], {});

/** y = x W^T + b, PyTorch's Linear (W is [out, in]). */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  const y = matmul(x, transpose(w, [1, 0]));
  return b ? add(y, b) : y;
}
