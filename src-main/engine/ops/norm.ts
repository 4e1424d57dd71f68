import { apply1, type OpDef, type Tensor } from '../ir.js';
import { nd } from '../ndarray.js';
import { add, div, mul, sqrt, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

/**
 * BatchNorm2d. In training mode it normalizes with batch statistics and returns the updated running statistics
 * (PyTorch semantics: the running variance uses the unbiased batch variance); in eval mode it uses the running
 * statistics.
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
  if (!o.training) return { y: apply1(BatchNormEval, [x, weight, bias, runningMean, runningVar], { eps }) };
  const m = o.momentum ?? 0.1;
  const [y, mu, variance] = x.graph.apply(BatchNormTrain, [x, weight, bias], { eps });
  const n = x.size / c;
  const unbiased = mul(variance!, n / Math.max(1, n - 1));
  return {
    y: y!,
    runningMean: add(mul(runningMean, 1 - m), mul(mu!, m)),
    runningVar: add(mul(runningVar, 1 - m), mul(unbiased, m)),
  };
}

/**
 * Training BatchNorm as one op with a closed-form gradient. Outputs: y, batch mean [C], biased batch variance
 * [C], and the normalized input x_hat (kept for the backward pass). Autodiff through the composed forward
 * produced about three times as many full-size element-wise passes (measured in bench/engine.bench.ts).
 *   dx = gamma / sigma * (dy - mean(dy) - x_hat * mean(dy * x_hat))  (+ terms from dmean, dvar when used)
 */
const BatchNormTrain: OpDef<{ eps: number }> = {
  type: 'batchNormTrain',
  infer: ([x]) => {
    const c = x!.shape[1]!;
    return [{ ...x! }, { shape: [c], dtype: 'float32' }, { shape: [c], dtype: 'float32' }, { ...x! }];
  },
  emit: (e, [x, w, b], [y, mu, v, xhat], a, node) => {
    const c = node.inputs[0]!.shape[1]!;
    const axes = { axes: { ints: [0, 2, 3] }, keepdims: { int: 1 } };
    const [mu4, centered, sq, var4, std, scale] = ['mu4', 'centered', 'sq', 'var4', 'std', 'scale'].map((h) =>
      e.tmp(h),
    );
    e.node('ReduceMean', [x!], [mu4!], axes);
    e.node('Sub', [x!, mu4!], [centered!]);
    e.node('Mul', [centered!, centered!], [sq!]);
    e.node('ReduceMean', [sq!], [var4!], axes);
    e.node('Add', [var4!, e.floats([a.eps], [])], [std + '_v']);
    e.node('Sqrt', [std + '_v'], [std!]);
    e.node('Div', [centered!, std!], [xhat!]);
    const shape4 = e.int64s([1, c, 1, 1]);
    e.node('Reshape', [w!, shape4], [scale!]);
    e.node('Mul', [xhat!, scale!], [scale + '_y']);
    const b4 = e.tmp('b4');
    e.node('Reshape', [b!, shape4], [b4]);
    e.node('Add', [scale + '_y', b4], [y!]);
    const flat = e.int64s([c]);
    e.node('Reshape', [mu4!, flat], [mu!]);
    e.node('Reshape', [var4!, flat], [v!]);
  },
  evaluate: ([x, w, b], a) => {
    const [n, c, h, wd] = x!.shape as [number, number, number, number];
    const hw = h * wd;
    const count = n * hw;
    const mu = nd([c]);
    const v = nd([c]);
    for (let i = 0; i < x!.data.length; i++) mu.data[Math.floor(i / hw) % c]! += x!.data[i]! / count;
    for (let i = 0; i < x!.data.length; i++) {
      const ch = Math.floor(i / hw) % c;
      v.data[ch]! += (x!.data[i]! - mu.data[ch]!) ** 2 / count;
    }
    const xhat = nd(x!.shape);
    const y = nd(x!.shape);
    for (let i = 0; i < x!.data.length; i++) {
      const ch = Math.floor(i / hw) % c;
      xhat.data[i] = (x!.data[i]! - mu.data[ch]!) / Math.sqrt(v.data[ch]! + a.eps);
      y.data[i] = xhat.data[i]! * w!.data[ch]! + b!.data[ch]!;
    }
    return [y, mu, v, xhat];
  },
  vjp: (node, [gy, gmu, gvar]) => {
    const [x, w] = node.inputs as [Tensor, Tensor];
    const [, , variance, xhat] = node.outputs as [Tensor, Tensor, Tensor, Tensor];
    const c = x.shape[1]!;
    const count = x.size / c;
    const eps = (node.attrs as { eps: number }).eps;
    const per = (t: Tensor) => reshape(t, [1, c, 1, 1]);
    const invStd = div(1, sqrt(add(variance, eps)));
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (gy) {
      gb = sum(gy, [0, 2, 3]);
      gw = sum(mul(gy, xhat), [0, 2, 3]);
      // dx = w/sigma * (dy - (sum(dy) + x_hat * sum(dy * x_hat)) / N)
      const inner = add(mul(xhat, per(div(gw, count))), per(div(gb, count)));
      gx = mul(sub(gy, inner), per(mul(w, invStd)));
    }
    // Gradients that reach the batch statistics directly (only when a loss uses them).
    if (gmu) gx = add(gx ?? mul(xhat, 0), per(div(gmu, count)));
    if (gvar) {
      const centered = mul(xhat, per(sqrt(add(variance, eps))));
      const term = mul(centered, per(div(mul(gvar, 2), count)));
      gx = gx ? add(gx, term) : term;
    }
    return [gx, gw, gb];
  },
};

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
