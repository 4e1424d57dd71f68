import { apply1, type OpDef, type Tensor } from '../ir.js';
import { nd, type NdArray } from '../ndarray.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { flip, pad, reshape, slice, transpose } from './shape.js';

/**
 * Conv2d and ConvTranspose2d. The backward formulations are the ones measured fastest on onnxruntime CPU
 * before the project started, the k x k im2col since (see docs/architecture.md, "Engine"):
 *   dX, stride 1  -> Conv of dY with the weight transposed (in/out) and spatially flipped
 *   dX, stride >1 -> ConvTranspose with output_padding
 *   dW, 1x1       -> batched MatMul [N,Cout,HW] x [N,HW,Cin], ReduceSum over N
 *   dW, depthwise -> grouped Conv with dY as the kernel ([1, N*C, H, W], group N*C), ReduceSum over N
 *   dW, k x k     -> im2col as one grouped Conv with one-hot kernels, batched MatMul, ReduceSum over N
 */

export interface ConvAttrs {
  stride: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

export interface ConvOptions {
  stride?: number | [number, number];
  /** Symmetric [h, w], one number, or [top, left, bottom, right]. */
  padding?: number | [number, number] | [number, number, number, number];
  dilation?: number | [number, number];
  groups?: number;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

export function convAttrs(o: ConvOptions = {}): ConvAttrs {
  const p = o.padding ?? 0;
  const pads: [number, number, number, number] =
    typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p;
  return { stride: pair(o.stride, 1), pads, dilation: pair(o.dilation, 1), groups: o.groups ?? 1 };
}

const convOut = (size: number, k: number, s: number, p0: number, p1: number, d: number) =>
  Math.floor((size + p0 + p1 - d * (k - 1) - 1) / s) + 1;

const onnxConvAttrs = (a: ConvAttrs, k: [number, number]) => ({
  kernel_shape: { ints: k },
  strides: { ints: a.stride },
  pads: { ints: a.pads },
  dilations: { ints: a.dilation },
  group: { int: a.groups },
});

// ---- Conv2d -----------------------------------------------------------------------------------------
const Conv2d: OpDef<ConvAttrs> = {
  type: 'conv2d',
  infer: ([x, w, b], a) => {
    if (x!.shape.length !== 4 || w!.shape.length !== 4) throw new Error('conv2d needs NCHW input and OIHW weight');
    const [n, c, h, wd] = x!.shape as [number, number, number, number];
    const [co, ci, kh, kw] = w!.shape as [number, number, number, number];
    if (c !== ci * a.groups || co % a.groups)
      throw new Error(`channels: input ${c}, weight ${co}x${ci}, groups ${a.groups}`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== co)) throw new Error(`bias must be [${co}]`);
    const ho = convOut(h, kh, a.stride[0], a.pads[0], a.pads[2], a.dilation[0]);
    const wo = convOut(wd, kw, a.stride[1], a.pads[1], a.pads[3], a.dilation[1]);
    if (ho < 1 || wo < 1) throw new Error(`output would be ${ho}x${wo}`);
    return [{ shape: [n, co, ho, wo], dtype: 'float32' }];
  },
  emit: (e, i, o, a, node) => {
    const w = node.inputs[1]!.shape;
    e.node('Conv', i, o, onnxConvAttrs(a, [w[2]!, w[3]!]));
  },
  evaluate: ([x, w, b], a) => [convNd(x!, w!, b, a)],
  vjp: (node, [g]) => {
    const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | undefined];
    const a = node.attrs as unknown as ConvAttrs;
    return [convInputGrad(g!, w, a, x.shape), convWeightGrad(x, g!, a, w.shape), b ? sum(g!, [0, 2, 3]) : null];
  },
};

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return apply1(Conv2d, b ? [x, w, b] : [x, w], convAttrs(o));
}

function convNd(x: NdArray, w: NdArray, b: NdArray | undefined, a: ConvAttrs): NdArray {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [co, ci, kh, kw] = w.shape as [number, number, number, number];
  const ho = convOut(h, kh, a.stride[0], a.pads[0], a.pads[2], a.dilation[0]);
  const wo = convOut(wd, kw, a.stride[1], a.pads[1], a.pads[3], a.dilation[1]);
  const out = nd([n, co, ho, wo]);
  const cog = co / a.groups;
  for (let in_ = 0; in_ < n; in_++)
    for (let oc = 0; oc < co; oc++) {
      const gidx = Math.floor(oc / cog);
      for (let oh = 0; oh < ho; oh++)
        for (let ow = 0; ow < wo; ow++) {
          let s = b ? b.data[oc]! : 0;
          for (let icg = 0; icg < ci; icg++) {
            const ic = gidx * ci + icg;
            for (let i = 0; i < kh; i++) {
              const ih = oh * a.stride[0] - a.pads[0] + i * a.dilation[0];
              if (ih < 0 || ih >= h) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * a.stride[1] - a.pads[1] + j * a.dilation[1];
                if (iw < 0 || iw >= wd) continue;
                s += x.data[((in_ * c + ic) * h + ih) * wd + iw]! * w.data[((oc * ci + icg) * kh + i) * kw + j]!;
              }
            }
          }
          out.data[((in_ * co + oc) * ho + oh) * wo + ow] = s;
        }
    }
  return out;
}

/** W [Cout, Cin/g, kh, kw] -> the weight of the transposed grouped conv, [Cin, Cout/g, kh, kw]. */
function swapInOut(w: Tensor, groups: number): Tensor {
  const [co, cig, kh, kw] = w.shape as [number, number, number, number];
  if (groups === 1) return transpose(w, [1, 0, 2, 3]);
  if (cig === 1 && co === groups) return w; // depthwise: already its own transpose
  const g5 = reshape(w, [groups, co / groups, cig, kh, kw]);
  return reshape(transpose(g5, [0, 2, 1, 3, 4]), [cig * groups, co / groups, kh, kw]);
}

/** dL/dX of a conv (also the forward of ConvTranspose's input gradient). */
export function convInputGrad(g: Tensor, w: Tensor, a: ConvAttrs, xShape: readonly number[]): Tensor {
  const [, , kh, kw] = w.shape as [number, number, number, number];
  const [h, wd] = [xShape[2]!, xShape[3]!];
  const [d0, d1] = a.dilation;
  const p = [
    d0 * (kh - 1) - a.pads[0],
    d1 * (kw - 1) - a.pads[1],
    d0 * (kh - 1) - a.pads[2],
    d1 * (kw - 1) - a.pads[3],
  ];
  if (a.stride[0] === 1 && a.stride[1] === 1 && p.every((v) => v >= 0)) {
    const wt = flip(swapInOut(w, a.groups), [2, 3]);
    const out = conv2d(g, wt, null, {
      padding: p as [number, number, number, number],
      dilation: a.dilation,
      groups: a.groups,
    });
    return out;
  }
  const outPad = [
    h - ((g.shape[2]! - 1) * a.stride[0] - a.pads[0] - a.pads[2] + d0 * (kh - 1) + 1),
    wd - ((g.shape[3]! - 1) * a.stride[1] - a.pads[1] - a.pads[3] + d1 * (kw - 1) + 1),
  ] as [number, number];
  return convTranspose2d(g, w, null, {
    stride: a.stride,
    padding: a.pads,
    dilation: a.dilation,
    groups: a.groups,
    outputPadding: outPad,
  });
}

/** dL/dW of a conv with input `x` and output gradient `g`, for a weight of `wShape`. */
export function convWeightGrad(x: Tensor, g: Tensor, a: ConvAttrs, wShape: readonly number[]): Tensor {
  const [co, cig, kh, kw] = wShape as [number, number, number, number];
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  const [ho, wo] = [g.shape[2]!, g.shape[3]!];
  // Built only for the paths that read it: im2col pads inside its own Conv.
  const padded = () => pad(x, [0, 0, a.pads[0], a.pads[1], 0, 0, a.pads[2], a.pads[3]]);

  if (a.groups === c && cig === 1 && co === c) {
    // Depthwise: a grouped conv with dY as the kernel, one group per (sample, channel).
    const xp = padded();
    const k = conv2d(reshape(xp, [1, n * c, xp.shape[2]!, xp.shape[3]!]), reshape(g, [n * c, 1, ho, wo]), null, {
      stride: a.dilation,
      dilation: a.stride,
      groups: n * c,
    });
    const cropped = k.shape[2] === kh && k.shape[3] === kw ? k : slice(k, [0, 0], [kh, kw], [2, 3]);
    return reshape(sum(reshape(cropped, [n, c, kh, kw]), 0), [co, 1, kh, kw]);
  }

  const cols = kh * kw === 1 ? slice1x1(padded(), a, ho, wo) : im2col(x, a, kh, kw); // [N, C, k*k, Ho, Wo]
  const gr = a.groups;
  // [N, g, Cin/g*kk, HW] and [N, g, Cout/g, HW] -> batched MatMul over (N, g), then sum over N.
  const colsG = reshape(cols, [n, gr, cig * kh * kw, ho * wo]);
  const gG = reshape(g, [n, gr, co / gr, ho * wo]);
  const dw = sum(matmul(gG, transpose(colsG, [0, 1, 3, 2])), 0); // [g, Cout/g, Cin/g*kk]
  return reshape(dw, [co, cig, kh, kw]);
}

/** The 1x1 conv's input at its output positions: one strided slice. */
function slice1x1(xp: Tensor, a: ConvAttrs, ho: number, wo: number): Tensor {
  return slice(xp, [0, 0], [a.stride[0] * (ho - 1) + 1, a.stride[1] * (wo - 1) + 1], [2, 3], a.stride);
}

/**
 * im2col as one Conv: each channel convolved with k*k one-hot kernels (a grouped conv, one group per channel, k*k
 * outputs each), so the conv's own pads, stride and dilation do the shifting. Each value is x * 1 summed with
 * zeros: for finite inputs the same bits as k*k strided Slices of the padded input and a Concat, which it replaced
 * (5-10% faster steps, docs/benchmarks.md, "im2col as one Conv"); an Inf in x makes NaNs (Inf * 0) where Slices
 * kept the Inf, in a gradient that is no longer finite either way.
 */
function im2col(x: Tensor, a: ConvAttrs, kh: number, kw: number): Tensor {
  const [n, c] = x.shape as [number, number];
  const kk = kh * kw;
  // Grouped rather than a batch of 1-channel planes ([N*C, 1, H, W]): onnxruntime's NCHWc layout pass rewrites any
  // ungrouped constant-weight Conv with fewer input channels than its block size (8 or 16) and pads its output to
  // that size, which cost a reorder pass and 47-73 MB of peak memory; it leaves a grouped conv with 1 input
  // channel per group alone.
  const oneHot = nd([c * kk, 1, kh, kw]);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < kk; t++) oneHot.data[(ch * kk + t) * kk + t] = 1;
  const cols = conv2d(x, x.graph.constant(oneHot), null, {
    stride: a.stride,
    padding: a.pads,
    dilation: a.dilation,
    groups: c,
  });
  return reshape(cols, [n, c, kk, cols.shape[2]!, cols.shape[3]!]);
}

// ---- ConvTranspose2d --------------------------------------------------------------------------------
interface ConvTAttrs extends ConvAttrs {
  outputPadding: [number, number];
}

const convTOut = (size: number, k: number, s: number, p0: number, p1: number, d: number, op: number) =>
  (size - 1) * s - p0 - p1 + d * (k - 1) + op + 1;

const ConvTranspose2d: OpDef<ConvTAttrs> = {
  type: 'convTranspose2d',
  infer: ([x, w, b], a) => {
    const [n, c, h, wd] = x!.shape as [number, number, number, number];
    const [ci, cog, kh, kw] = w!.shape as [number, number, number, number];
    if (c !== ci) throw new Error(`input has ${c} channels, weight expects ${ci}`);
    const co = cog * a.groups;
    if (b && b.shape[0] !== co) throw new Error(`bias must be [${co}]`);
    // Larger output padding only appends rows no input reaches; the gradients (dX through a conv of dY, dW through
    // im2col of x) are written for output padding below the stride, which is all the engine itself emits.
    if (a.outputPadding.some((p, i) => p >= a.stride[i]!))
      throw new Error(
        `outputPadding [${a.outputPadding.join(', ')}] must be below the stride [${a.stride.join(', ')}]`,
      );
    return [
      {
        shape: [
          n,
          co,
          convTOut(h, kh, a.stride[0], a.pads[0], a.pads[2], a.dilation[0], a.outputPadding[0]),
          convTOut(wd, kw, a.stride[1], a.pads[1], a.pads[3], a.dilation[1], a.outputPadding[1]),
        ],
        dtype: 'float32',
      },
    ];
  },
  emit: (e, i, o, a, node) => {
    const w = node.inputs[1]!.shape;
    e.node('ConvTranspose', i, o, { ...onnxConvAttrs(a, [w[2]!, w[3]!]), output_padding: { ints: a.outputPadding } });
  },
  evaluate: ([x, w, b], a, node) => {
    const [n, ci, h, wd] = x!.shape as [number, number, number, number];
    const [, cog, kh, kw] = w!.shape as [number, number, number, number];
    const [, co, ho, wo] = node.outputs[0]!.shape as [number, number, number, number];
    const out = nd([n, co, ho, wo]);
    const cig = ci / a.groups;
    for (let in_ = 0; in_ < n; in_++)
      for (let ic = 0; ic < ci; ic++) {
        const gidx = Math.floor(ic / cig);
        for (let ih = 0; ih < h; ih++)
          for (let iw = 0; iw < wd; iw++) {
            const v = x!.data[((in_ * ci + ic) * h + ih) * wd + iw]!;
            for (let ocg = 0; ocg < cog; ocg++) {
              const oc = gidx * cog + ocg;
              for (let i = 0; i < kh; i++) {
                const oh = ih * a.stride[0] - a.pads[0] + i * a.dilation[0];
                if (oh < 0 || oh >= ho) continue;
                for (let j = 0; j < kw; j++) {
                  const ow = iw * a.stride[1] - a.pads[1] + j * a.dilation[1];
                  if (ow < 0 || ow >= wo) continue;
                  out.data[((in_ * co + oc) * ho + oh) * wo + ow]! +=
                    v * w!.data[((ic * cog + ocg) * kh + i) * kw + j]!;
                }
              }
            }
          }
      }
    if (b) for (let i = 0; i < out.data.length; i++) out.data[i]! += b.data[Math.floor(i / (ho * wo)) % co]!;
    return [out];
  },
  vjp: (node, [g]) => {
    const [x, w, b] = node.inputs as [Tensor, Tensor, Tensor | undefined];
    const a = node.attrs as unknown as ConvTAttrs;
    const conv: ConvAttrs = { stride: a.stride, pads: a.pads, dilation: a.dilation, groups: a.groups };
    // ConvTranspose is the adjoint of Conv with the same weight: its gradients are the conv's, roles swapped.
    return [
      conv2d(g!, w, null, { stride: a.stride, padding: a.pads, dilation: a.dilation, groups: a.groups }),
      convWeightGrad(g!, x, conv, w.shape),
      b ? sum(g!, [0, 2, 3]) : null,
    ];
  },
};

export function convTranspose2d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null = null,
  o: ConvOptions & { outputPadding?: [number, number] } = {},
): Tensor {
  return apply1(ConvTranspose2d, b ? [x, w, b] : [x, w], { ...convAttrs(o), outputPadding: o.outputPadding ?? [0, 0] });
}
