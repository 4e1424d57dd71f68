import { apply1, type DType, type OpDef, type Tensor } from '../ir.js';
import { broadcastShapes, mapN, nd } from '../ndarray.js';
import { reshape } from './shape.js';
import { sum } from './reduce.js';

/** Element-wise ops with NumPy broadcasting: arithmetic, math functions, comparisons, where, cast. */

export type Operand = Tensor | number;

/** Turns a number into a scalar constant of `ref`'s graph. */
export function lift(x: Operand, ref: Tensor): Tensor {
  return typeof x === 'number' ? ref.graph.constant(nd([], [x])) : x;
}

/** Sums a broadcast gradient back down to `shape`. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

function binary(
  type: string,
  onnx: string,
  f: (a: number, b: number) => number,
  vjp?: (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null],
  outDtype?: DType,
): OpDef<Record<string, never>> {
  return {
    type,
    infer: ([a, b]) => {
      if (a!.dtype !== b!.dtype) throw new Error(`dtypes differ: ${a!.dtype} and ${b!.dtype}`);
      return [{ shape: broadcastShapes(a!.shape, b!.shape), dtype: outDtype ?? a!.dtype }];
    },
    emit: (e, i, o) => e.node(onnx, i, o),
    evaluate: ([a, b]) => [mapN([a!, b!], f)],
    ...(vjp && {
      vjp: (node, [g]) => {
        const [a, b] = node.inputs as [Tensor, Tensor];
        const [ga, gb] = vjp(a, b, node.outputs[0]!, g!);
        return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
      },
    }),
  };
}

const Add = binary(
  'add',
  'Add',
  (a, b) => a + b,
  (_a, _b, _y, g) => [g, g],
);
const Sub = binary(
  'sub',
  'Sub',
  (a, b) => a - b,
  (_a, _b, _y, g) => [g, neg(g)],
);
const Mul = binary(
  'mul',
  'Mul',
  (a, b) => a * b,
  (a, b, _y, g) => [mul(g, b), mul(g, a)],
);
const Div = binary(
  'div',
  'Div',
  (a, b) => a / b,
  (a, b, y, g) => [div(g, b), neg(div(mul(g, y), b))],
);
const Pow = binary(
  'pow',
  'Pow',
  (a, b) => Math.pow(a, b),
  (a, b, y, g) => [
    mul(g, mul(b, pow(a, sub(b, 1)))),
    // d/db a^b = a^b ln a; only defined for a > 0, zero elsewhere (as PyTorch does for a = 0).
    mul(g, mul(y, log(maximum(a, 1e-30)))),
  ],
);
const Maximum = binary(
  'maximum',
  'Max',
  (a, b) => Math.max(a, b),
  (a, b, _y, g) => {
    const m = cast(greaterOrEqual(a, b), 'float32');
    return [mul(g, m), mul(g, sub(1, m))];
  },
);
const Minimum = binary(
  'minimum',
  'Min',
  (a, b) => Math.min(a, b),
  (a, b, _y, g) => {
    const m = cast(lessOrEqual(a, b), 'float32');
    return [mul(g, m), mul(g, sub(1, m))];
  },
);
const Greater = binary('greater', 'Greater', (a, b) => +(a > b), undefined, 'bool');
const Less = binary('less', 'Less', (a, b) => +(a < b), undefined, 'bool');
const GreaterOrEqual = binary('greaterOrEqual', 'GreaterOrEqual', (a, b) => +(a >= b), undefined, 'bool');
const LessOrEqual = binary('lessOrEqual', 'LessOrEqual', (a, b) => +(a <= b), undefined, 'bool');
const Equal = binary('equal', 'Equal', (a, b) => +(a === b), undefined, 'bool');

export const add = (a: Operand, b: Operand): Tensor => bin(Add, a, b);
export const sub = (a: Operand, b: Operand): Tensor => bin(Sub, a, b);
export const mul = (a: Operand, b: Operand): Tensor => bin(Mul, a, b);
export const div = (a: Operand, b: Operand): Tensor => bin(Div, a, b);
export const pow = (a: Operand, b: Operand): Tensor => bin(Pow, a, b);
export const maximum = (a: Operand, b: Operand): Tensor => bin(Maximum, a, b);
export const minimum = (a: Operand, b: Operand): Tensor => bin(Minimum, a, b);
export const greater = (a: Operand, b: Operand): Tensor => bin(Greater, a, b);
export const less = (a: Operand, b: Operand): Tensor => bin(Less, a, b);
export const greaterOrEqual = (a: Operand, b: Operand): Tensor => bin(GreaterOrEqual, a, b);
export const lessOrEqual = (a: Operand, b: Operand): Tensor => bin(LessOrEqual, a, b);
export const equal = (a: Operand, b: Operand): Tensor => bin(Equal, a, b);

function bin(op: OpDef<Record<string, never>>, a: Operand, b: Operand): Tensor {
  const ref = typeof a === 'number' ? (b as Tensor) : a;
  const ta = lift(a, ref);
  const tb = lift(b, ref);
  return apply1(op, [ta, tb.dtype === ta.dtype ? tb : cast(tb, ta.dtype)], {});
}

export function unary(
  type: string,
  emit: OpDef['emit'],
  f: (x: number) => number,
  vjp?: (x: Tensor, y: Tensor, g: Tensor) => Tensor,
): OpDef<Record<string, never>> {
  return {
    type,
    infer: ([x]) => [{ ...x! }],
    emit,
    evaluate: ([x]) => [mapN([x!], f)],
    ...(vjp && { vjp: (node, [g]) => [vjp(node.inputs[0]!, node.outputs[0]!, g!)] }),
  };
}
export const simple =
  (onnx: string): OpDef['emit'] =>
  (e, i, o) =>
    e.node(onnx, i, o);

const Neg = unary(
  'neg',
  simple('Neg'),
  (x) => -x,
  (_x, _y, g) => neg(g),
);
const Exp = unary('exp', simple('Exp'), Math.exp, (_x, y, g) => mul(g, y));
const Log = unary('log', simple('Log'), Math.log, (x, _y, g) => div(g, x));
const Sqrt = unary('sqrt', simple('Sqrt'), Math.sqrt, (_x, y, g) => div(g, mul(y, 2)));
const Abs = unary('abs', simple('Abs'), Math.abs, (x, _y, g) => mul(g, sign(x)));
const Sign = unary('sign', simple('Sign'), Math.sign);
const Tanh = unary('tanh', simple('Tanh'), Math.tanh, (_x, y, g) => mul(g, sub(1, mul(y, y))));
const Atan = unary('atan', simple('Atan'), Math.atan, (x, _y, g) => div(g, add(mul(x, x), 1)));
const Erf = unary('erf', simple('Erf'), erfApprox, (x, _y, g) =>
  mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))),
);

export const neg = (x: Tensor): Tensor => apply1(Neg, [x], {});
export const exp = (x: Tensor): Tensor => apply1(Exp, [x], {});
export const log = (x: Tensor): Tensor => apply1(Log, [x], {});
export const sqrt = (x: Tensor): Tensor => apply1(Sqrt, [x], {});
export const abs = (x: Tensor): Tensor => apply1(Abs, [x], {});
export const sign = (x: Tensor): Tensor => apply1(Sign, [x], {});
export const tanh = (x: Tensor): Tensor => apply1(Tanh, [x], {});
export const erf = (x: Tensor): Tensor => apply1(Erf, [x], {});
export const atan = (x: Tensor): Tensor => apply1(Atan, [x], {});

/** erf to float64 precision (Abramowitz-Stegun 7.1.26 is too coarse for gradient checks; use a series/continued fraction). */
export function erfApprox(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5.
    let term = x;
    let s = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      s += add;
      if (Math.abs(add) < 1e-17 * Math.abs(s)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * s;
  }
  // Continued fraction for erfc at large |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

// ---- clamp: min/max as attributes (ONNX Clip takes them as inputs) ------------------------------------
const Clamp: OpDef<{ min: number; max: number }> = {
  type: 'clamp',
  infer: ([x]) => [{ ...x! }],
  emit: (e, [x], o, a) => e.node('Clip', [x!, e.floats([a.min], []), e.floats([a.max], [])], o),
  evaluate: ([x], a) => [mapN([x!], (v) => Math.min(a.max, Math.max(a.min, v)))],
  vjp: (node, [g]) => {
    const x = node.inputs[0]!;
    const { min, max } = node.attrs as { min: number; max: number };
    const inside = mul(cast(greaterOrEqual(x, min), 'float32'), cast(lessOrEqual(x, max), 'float32'));
    return [mul(g!, inside)];
  },
};
export const clamp = (x: Tensor, min = -Infinity, max = Infinity): Tensor =>
  apply1(Clamp, [x], { min: Math.max(min, -3.4e38), max: Math.min(max, 3.4e38) });

// ---- where ----------------------------------------------------------------------------------------------
const Where: OpDef<Record<string, never>> = {
  type: 'where',
  infer: ([c, a, b]) => {
    if (c!.dtype !== 'bool') throw new Error('condition must be bool');
    return [{ shape: broadcastShapes(c!.shape, broadcastShapes(a!.shape, b!.shape)), dtype: a!.dtype }];
  },
  emit: (e, i, o) => e.node('Where', i, o),
  evaluate: ([c, a, b]) => [mapN([c!, a!, b!], (cv, av, bv) => (cv ? av : bv))],
  vjp: (node, [g]) => {
    const [c, a, b] = node.inputs as [Tensor, Tensor, Tensor];
    const zero = lift(0, g!);
    return [null, sumTo(where(c, g!, zero), a.shape), sumTo(where(c, zero, g!), b.shape)];
  },
};
export const where = (cond: Tensor, a: Operand, b: Operand): Tensor => {
  const ref = typeof a === 'number' ? (typeof b === 'number' ? cond : b) : a;
  const ta = lift(a, ref);
  return apply1(Where, [cond, ta, lift(b, ta)], {});
};

// ---- cast -----------------------------------------------------------------------------------------------
const ONNX_DTYPE: Record<DType, number> = { float32: 1, int64: 7, bool: 9 };
const Cast: OpDef<{ to: DType }> = {
  type: 'cast',
  infer: ([x], a) => [{ shape: x!.shape, dtype: a.to }],
  emit: (e, i, o, a) => e.node('Cast', i, o, { to: { int: ONNX_DTYPE[a.to] } }),
  evaluate: ([x], a) => [mapN([x!], (v) => (a.to === 'bool' ? +(v !== 0) : a.to === 'int64' ? Math.trunc(v) : v))],
  vjp: (node, [g]) => [node.inputs[0]!.dtype === 'float32' ? g! : null],
};
export const cast = (x: Tensor, to: DType): Tensor => (x.dtype === to ? x : apply1(Cast, [x], { to }));

// ---- detach ---------------------------------------------------------------------------------------------
const Detach: OpDef<Record<string, never>> = {
  type: 'detach',
  infer: ([x]) => [{ ...x! }],
  emit: (e, i, o) => e.node('Identity', i, o),
  evaluate: ([x]) => [{ shape: [...x!.shape], data: x!.data }],
  vjp: () => [null],
};
/** PyTorch's .detach(): the value flows on, no gradient flows back. */
export const detach = (x: Tensor): Tensor => apply1(Detach, [x], {});
