import { apply1, type OpDef, type Tensor } from '../ir.js';
import { greedyNms, type NmsAttrs } from '../../inference/boxes.js';
import { nd } from '../ndarray.js';

export type { NmsAttrs } from '../../inference/boxes.js';

/**
 * Non-maximum suppression as a keep mask with a static shape: boxes [B, N, 4] (corners), scores [B, 1, N]
 * -> mask [B, N] (1 = kept). ONNX NonMaxSuppression returns a data-dependent [K, 3] list; the emission turns
 * it into the mask with a scatter, so the IR keeps static shapes and exports keep a dynamic batch.
 * Semantics as onnxruntime: boxes with score > scoreThreshold, suppressed when IoU > iouThreshold.
 */
const NmsMask: OpDef<NmsAttrs> = {
  type: 'nmsMask',
  infer: ([b, s]) => {
    const [bb, n, four] = b!.shape as [number, number, number];
    if (four !== 4 || s!.shape.join() !== [bb, 1, n].join())
      throw new Error('nmsMask takes boxes [B, N, 4] and scores [B, 1, N]');
    return [{ shape: [bb, n], dtype: 'float32' }];
  },
  emit: (e, [boxes, scores], [mask], a, node) => {
    const n = node.inputs[0]!.shape[1]!;
    const sel = e.tmp('nms');
    e.node(
      'NonMaxSuppression',
      [boxes!, scores!, e.int64s([a.maxOutput], []), e.floats([a.iouThreshold], []), e.floats([a.scoreThreshold], [])],
      [sel],
    );
    const [b, i, flat, ones, zeros, kept, shape1] = ['b', 'i', 'flat', 'ones', 'zeros', 'kept', 'shape1'].map((h) =>
      e.tmp(h),
    ) as string[];
    e.node('Gather', [sel, e.int64s([0], [])], [b!], { axis: { int: 1 } });
    e.node('Gather', [sel, e.int64s([2], [])], [i!], { axis: { int: 1 } });
    const bn = e.tmp('bn');
    e.node('Mul', [b!, e.int64s([n], [])], [bn]);
    e.node('Add', [bn, i!], [flat!]);
    // Ones [K] from the index vector itself (ConstantOfShape would need a tensor attribute for 1.0).
    e.node('Mul', [flat!, e.int64s([0], [])], [shape1!]);
    e.node('Add', [shape1!, e.int64s([1], [])], [ones!]);
    const onesF = e.tmp('onesF');
    e.node('Cast', [ones!], [onesF], { to: { int: 1 } });
    const flatScores = e.tmp('flatScores');
    e.node('Reshape', [scores!, e.int64s([-1])], [flatScores]);
    e.node('Mul', [flatScores, e.floats([0], [])], [zeros!]); // batch-dynamic zeros [B*N]
    e.node('ScatterElements', [zeros!, flat!, onesF], [kept!], { axis: { int: 0 } });
    e.node('Reshape', [kept!, e.int64s([-1, n])], [mask!]);
  },
  evaluate: ([boxes, scores], a) => {
    const [bb, n] = [boxes!.shape[0]!, boxes!.shape[1]!];
    const out = nd([bb, n]);
    for (let b = 0; b < bb; b++)
      for (const k of greedyNms(boxes!.data, b * n * 4, scores!.data, b * n, n, a)) out.data[b * n + k] = 1;
    return [out];
  },
};
export const nmsMask = (boxes: Tensor, scores: Tensor, o: NmsAttrs): Tensor => apply1(NmsMask, [boxes, scores], o);
