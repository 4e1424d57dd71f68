import { apply1, type OpDef, type Tensor } from '../ir.js';
import { nd } from '../ndarray.js';
import { add, div, mul, sqrt, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { reshape } from './shape.js';

/**
 * BatchNorm2d, composed from primitives so autodiff derives its gradient. In training mode it normalizes
 * with batch statistics and returns the updated running statistics (PyTorch semantics: running var uses the
 * unbiased batch variance); in eval mode it uses the running statistics.
 */
export interface BatchNormResult {
  y: Tensor;
  runningMean?: Tensor;
  runningVar?: Tensor;
}

export function batchNorm2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  o: { training: boolean; momentum?: number; eps?: number },
): BatchNormResult {
  const c = x.shape[1]!;
  const eps = o.eps ?? 1e-5;
  const perChannel = (t: Tensor) => reshape(t, [1, c, 1, 1]);
  const scaleShift = (normed: Tensor) => add(mul(normed, perChannel(weight)), perChannel(bias));
  if (!o.training) return { y: apply1(BatchNormEval, [x, weight, bias, runningMean, runningVar], { eps }) };
  const m = o.momentum ?? 0.1;
  const mu = mean(x, [0, 2, 3], true);
  const centered = sub(x, mu);
  const variance = mean(mul(centered, centered), [0, 2, 3], true);
  const y = scaleShift(div(centered, sqrt(add(variance, eps))));
  const n = x.size / c;
  const unbiased = mul(reshape(variance, [c]), n / Math.max(1, n - 1));
  return {
    y,
    runningMean: add(mul(runningMean, 1 - m), mul(reshape(mu, [c]), m)),
    runningVar: add(mul(runningVar, 1 - m), mul(unbiased, m)),
  };
}

/**
 * Inference BatchNorm as one ONNX BatchNormalization node: runtimes fuse it into the preceding conv, and the
 * export pass (fold.ts) folds it into the conv's weights when both are known.
 */
export const BatchNormEval: OpDef<{ eps: number }> = {
  type: 'batchNormEval',
  infer: ([x]) => [{ ...x! }],
  emit: (e, i, o, a) => e.node('BatchNormalization', i, o, { epsilon: { float: a.eps } }),
  evaluate: ([x, w, b, m, v], a) => {
    const c = x!.shape[1]!;
    const inner = x!.shape.slice(2).reduce((p, q) => p * q, 1);
    const out = nd(x!.shape);
    for (let i = 0; i < out.data.length; i++) {
      const ch = Math.floor(i / inner) % c;
      out.data[i] = ((x!.data[i]! - m!.data[ch]!) / Math.sqrt(v!.data[ch]! + a.eps)) * w!.data[ch]! + b!.data[ch]!;
    }
    return [out];
  },
  vjp: (node, [g]) => {
    // Frozen statistics: an affine map per channel (used when fine-tuning with frozen BatchNorm).
    const [x, w, , m, v] = node.inputs as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const c = x.shape[1]!;
    const eps = (node.attrs as { eps: number }).eps;
    const per = (t: Tensor) => reshape(t, [1, c, 1, 1]);
    const inv = div(1, sqrt(add(v, eps)));
    const xhat = mul(sub(x, per(m)), per(inv));
    const gw = sum(mul(g!, xhat), [0, 2, 3]);
    const gb = sum(g!, [0, 2, 3]);
    return [mul(g!, per(mul(w, inv))), gw, gb, null, null];
  },
};
