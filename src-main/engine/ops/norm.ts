import type { Tensor } from '../ir.js';
import { add, div, mul, sqrt, sub } from './elementwise.js';
import { mean } from './reduce.js';
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
  if (!o.training) {
    return { y: scaleShift(div(sub(x, perChannel(runningMean)), sqrt(add(perChannel(runningVar), eps)))) };
  }
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
