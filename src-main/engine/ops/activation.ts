import { apply1, type OpDef, type Tensor } from '../ir.js';
import { mapN } from '../ndarray.js';
import { add, cast, clamp, div, erf, greater, less, mul, simple, sub, unary, where } from './elementwise.js';

/** Activations, each emitted as its ONNX op where one exists (so runtimes fuse them) with its own gradient. */

const sigmoidF = (x: number) => 1 / (1 + Math.exp(-x));

const Relu = unary(
  'relu',
  simple('Relu'),
  (x) => Math.max(0, x),
  (x, _y, g) => mul(g, cast(greater(x, 0), 'float32')),
);
const Sigmoid = unary('sigmoid', simple('Sigmoid'), sigmoidF, (_x, y, g) => mul(g, mul(y, sub(1, y))));
const Silu = unary(
  'silu',
  (e, [x], o) => {
    const s = e.tmp('sigmoid');
    e.node('Sigmoid', [x!], [s]);
    e.node('Mul', [x!, s], o);
  },
  (x) => x * sigmoidF(x),
  (x, _y, g) => {
    const s = sigmoid(x);
    return mul(g, mul(s, add(1, mul(x, sub(1, s)))));
  },
);
// PyTorch's hardsigmoid: relu6(x + 3) / 6.
const HardSigmoid = unary(
  'hardsigmoid',
  (e, i, o) => e.node('HardSigmoid', i, o, { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }),
  (x) => Math.min(1, Math.max(0, x / 6 + 0.5)),
  (x, _y, g) => mul(g, div(mul(cast(greater(x, -3), 'float32'), cast(less(x, 3), 'float32')), 6)),
);
const HardSwish = unary(
  'hardswish',
  simple('HardSwish'),
  (x) => x * Math.min(1, Math.max(0, x / 6 + 0.5)),
  (x, _y, g) => mul(g, where(less(x, -3), 0, where(greater(x, 3), 1, div(add(mul(x, 2), 3), 6)))),
);

export const relu = (x: Tensor): Tensor => apply1(Relu, [x], {});
export const relu6 = (x: Tensor): Tensor => clamp(x, 0, 6);
export const sigmoid = (x: Tensor): Tensor => apply1(Sigmoid, [x], {});
export const silu = (x: Tensor): Tensor => apply1(Silu, [x], {});
export const hardsigmoid = (x: Tensor): Tensor => apply1(HardSigmoid, [x], {});
export const hardswish = (x: Tensor): Tensor => apply1(HardSwish, [x], {});

const LeakyRelu: OpDef<{ alpha: number }> = {
  type: 'leakyRelu',
  infer: ([x]) => [{ ...x! }],
  emit: (e, i, o, a) => e.node('LeakyRelu', i, o, { alpha: { float: a.alpha } }),
  evaluate: ([x], a) => [mapN([x!], (v) => (v > 0 ? v : a.alpha * v))],
  vjp: (node, [g]) => [mul(g!, where(greater(node.inputs[0]!, 0), 1, (node.attrs as { alpha: number }).alpha))],
};
export const leakyRelu = (x: Tensor, alpha = 0.01): Tensor => apply1(LeakyRelu, [x], { alpha });

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), composed so opset 17 runtimes run it (ONNX Gelu is opset 20). */
export const gelu = (x: Tensor): Tensor => mul(mul(x, 0.5), add(erf(div(x, Math.SQRT2)), 1));
