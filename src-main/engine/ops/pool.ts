import { apply1, type OpDef, type Tensor } from '../ir.js';
import { nd } from '../ndarray.js';
import { conv2d } from './conv.js';
import { mean, sum } from './reduce.js';
import { reshape } from './shape.js';
import { gatherElements } from './index-ops.js';

/** Pooling and resizing: MaxPool2d, AvgPool2d, global average pooling, nearest x2 upsampling. */

interface PoolAttrs {
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
}
const out = (size: number, k: number, s: number, p0: number, p1: number) => Math.floor((size + p0 + p1 - k) / s) + 1;

const MaxPool2d: OpDef<PoolAttrs> = {
  type: 'maxPool2d',
  infer: ([x], a) => {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    const shape = [
      n,
      c,
      out(h, a.kernel[0], a.stride[0], a.pads[0], a.pads[2]),
      out(w, a.kernel[1], a.stride[1], a.pads[1], a.pads[3]),
    ];
    return [
      { shape, dtype: 'float32' },
      { shape, dtype: 'int64' },
    ];
  },
  emit: (e, i, o, a) =>
    e.node('MaxPool', i, o, { kernel_shape: { ints: a.kernel }, strides: { ints: a.stride }, pads: { ints: a.pads } }),
  evaluate: ([x], a, node) => {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    const [, , ho, wo] = node.outputs[0]!.shape as [number, number, number, number];
    const y = nd([n, c, ho, wo]);
    const idx = nd([n, c, ho, wo]);
    for (let p = 0; p < n * c; p++)
      for (let oh = 0; oh < ho; oh++)
        for (let ow = 0; ow < wo; ow++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < a.kernel[0]; i++)
            for (let j = 0; j < a.kernel[1]; j++) {
              const ih = oh * a.stride[0] - a.pads[0] + i;
              const iw = ow * a.stride[1] - a.pads[1] + j;
              if (ih < 0 || iw < 0 || ih >= h || iw >= w) continue;
              const v = x!.data[(p * h + ih) * w + iw]!;
              if (v > best) {
                best = v;
                at = (p * h + ih) * w + iw;
              }
            }
          y.data[(p * ho + oh) * wo + ow] = best;
          idx.data[(p * ho + oh) * wo + ow] = at;
        }
    return [y, idx];
  },
  vjp: (node, [g]) => {
    // Scatter-add the gradient to the flat positions MaxPool reports (indices over N*C*H*W).
    const x = node.inputs[0]!;
    const flatIdx = reshape(node.outputs[1]!, [-1]);
    return [reshape(scatterAdd(x.size, flatIdx, reshape(g!, [-1])), x.shape)];
  },
};

export interface PoolOptions {
  stride?: number;
  padding?: number;
}
export function maxPool2d(x: Tensor, kernel: number, o: PoolOptions = {}): Tensor {
  const p = o.padding ?? 0;
  return x.graph.apply(MaxPool2d, [x], {
    kernel: [kernel, kernel],
    stride: [o.stride ?? kernel, o.stride ?? kernel],
    pads: [p, p, p, p],
  })[0]!;
}

/** Average pooling (count_include_pad, PyTorch's default) as a depthwise conv with a constant kernel. */
export function avgPool2d(x: Tensor, kernel: number, o: PoolOptions = {}): Tensor {
  const c = x.shape[1]!;
  const w = x.graph.constant(
    nd([c, 1, kernel, kernel], new Array<number>(c * kernel * kernel).fill(1 / (kernel * kernel))),
  );
  return conv2d(x, w, null, { stride: o.stride ?? kernel, padding: o.padding ?? 0, groups: c });
}

export const globalAvgPool = (x: Tensor): Tensor => mean(x, [2, 3], true);

// ---- scatter-add (the adjoint of a flat gather) -----------------------------------------------------
const ScatterAdd: OpDef<{ size: number }> = {
  type: 'scatterAdd',
  infer: ([i, v], a) => {
    if (i!.dtype !== 'int64' || i!.shape.join() !== v!.shape.join() || i!.shape.length !== 1) {
      throw new Error('scatterAdd takes 1-d int64 indices and values of the same length');
    }
    return [{ shape: [a.size], dtype: v!.dtype }];
  },
  emit: (e, [i, v], o, a) => {
    const zeros = e.tmp('zeros');
    e.node('ConstantOfShape', [e.int64s([a.size])], [zeros], {});
    e.node('ScatterElements', [zeros, i!, v!], o, { axis: { int: 0 }, reduction: { string: 'add' } });
  },
  evaluate: ([i, v], a) => {
    const r = nd([a.size]);
    for (let k = 0; k < i!.data.length; k++) r.data[i!.data[k]!]! += v!.data[k]!;
    return [r];
  },
  vjp: (node, [g]) => [null, gatherElements(g!, node.inputs[0]!, 0)],
};
export const scatterAdd = (size: number, indices: Tensor, values: Tensor): Tensor =>
  apply1(ScatterAdd, [indices, values], { size });

// ---- nearest x2 upsampling --------------------------------------------------------------------------
const Upsample2x: OpDef<Record<string, never>> = {
  type: 'upsampleNearest2x',
  infer: ([x]) => {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    return [{ shape: [n, c, 2 * h, 2 * w], dtype: x!.dtype }];
  },
  emit: (e, [x], o) =>
    e.node('Resize', [x!, '', e.floats([1, 1, 2, 2])], o, {
      mode: { string: 'nearest' },
      coordinate_transformation_mode: { string: 'asymmetric' },
      nearest_mode: { string: 'floor' },
    }),
  evaluate: ([x]) => {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    const y = nd([n, c, 2 * h, 2 * w]);
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < 2 * h; i++)
        for (let j = 0; j < 2 * w; j++)
          y.data[(p * 2 * h + i) * 2 * w + j] = x!.data[(p * h + (i >> 1)) * w + (j >> 1)]!;
    return [y];
  },
  vjp: (node, [g]) => {
    const [n, c, h, w] = node.inputs[0]!.shape as [number, number, number, number];
    return [sum(reshape(g!, [n, c, h, 2, w, 2]), [3, 5])];
  },
};
export const upsampleNearest2x = (x: Tensor): Tensor => apply1(Upsample2x, [x], {});

// ---- bilinear resize (forward only: teacher inputs, preprocessing) ---------------------------------------
/**
 * Bilinear resize to [h, w] with pixel-centre alignment and no antialiasing: ONNX Resize linear half_pixel, the
 * float form of OpenCV's INTER_LINEAR. Not differentiable (nothing trained sits before it).
 */
const ResizeBilinear: OpDef<{ size: [number, number] }> = {
  type: 'resizeBilinear',
  infer: ([x], a) => {
    const [n, c] = x!.shape as [number, number];
    return [{ shape: [n, c, a.size[0], a.size[1]], dtype: 'float32' }];
  },
  emit: (e, [x], o, a) => {
    // sizes = [batch, channels] of the input (the batch may be symbolic) + the target height and width.
    const shape = e.tmp('shape');
    const nc = e.tmp('nc');
    const sizes = e.tmp('sizes');
    e.node('Shape', [x!], [shape]);
    e.node('Slice', [shape, e.int64s([0]), e.int64s([2])], [nc]);
    e.node('Concat', [nc, e.int64s([a.size[0], a.size[1]])], [sizes], { axis: { int: 0 } });
    e.node('Resize', [x!, '', '', sizes], o, {
      mode: { string: 'linear' },
      coordinate_transformation_mode: { string: 'half_pixel' },
    });
  },
  evaluate: ([x], a) => {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    const [ho, wo] = a.size;
    const y = nd([n, c, ho, wo]);
    const tap = (d: number, out: number, inp: number) => {
      const f = Math.min(Math.max((d + 0.5) * (inp / out) - 0.5, 0), inp - 1);
      const lo = Math.floor(f);
      return [lo, Math.min(lo + 1, inp - 1), f - lo] as const;
    };
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < ho; i++) {
        const [y0, y1, fy] = tap(i, ho, h);
        for (let j = 0; j < wo; j++) {
          const [x0, x1, fx] = tap(j, wo, w);
          const at = (yy: number, xx: number) => x!.data[(p * h + yy) * w + xx]!;
          const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
          const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
          y.data[(p * ho + i) * wo + j] = top * (1 - fy) + bottom * fy;
        }
      }
    return [y];
  },
  vjp: () => {
    throw new Error('resizeBilinear is not differentiable');
  },
};
export const resizeBilinear = (x: Tensor, size: [number, number]): Tensor => apply1(ResizeBilinear, [x], { size });
