import { Graph } from '../engine/ir.js';
import type { Module } from '../engine/nn.js';
import { countParameters } from '../engine/nn.js';

/**
 * Model-card figures. GFLOPs are counted as Ultralytics reports them (thop on the unfused model, x2):
 * 2 x (multiply-accumulates of every convolution (bias not counted) and Linear layer, 4 per element for
 * BatchNorm, 1 per output element for nearest upsampling); pooling, activations, element-wise ops and the
 * attention matmuls inside C2PSA are not counted (thop only sees these nn.Module leaves).
 */
export interface ModelFigures {
  parameters: number;
  trainable: number;
  gflops: number;
  imgsz: number;
}

export function countFlops(model: Module, build: (g: Graph) => void): number {
  const g = new Graph();
  const wasTraining = model.training;
  model.eval();
  try {
    build(g);
  } finally {
    model.train(wasTraining);
  }
  let macs = 0;
  for (const n of g.nodes) {
    const out = n.outputs[0]!;
    if (n.op.type === 'conv2d') {
      const w = n.inputs[1]!;
      // Constant kernels (average pooling as a depthwise conv) are not layers: thop does not count them.
      if (w.leaf?.kind === 'const') continue;
      macs += out.size * w.shape[1]! * w.shape[2]! * w.shape[3]!;
    } else if (
      n.op.type === 'matmul' &&
      n.inputs[1]!.node?.op.type === 'transpose' &&
      n.inputs[1]!.node.inputs[0]!.leaf?.kind === 'param'
    ) {
      macs += out.size * n.inputs[0]!.shape.at(-1)!; // Linear (weight transposed): thop counts it
    } else if (n.op.type === 'batchNormEval') {
      macs += 4 * out.size; // thop: 2 per element, doubled for the affine transform
    } else if (n.op.type === 'upsampleNearest2x') {
      macs += out.size; // thop: one op per output element for nearest
    }
  }
  return (2 * macs) / 1e9;
}

export function modelFigures(model: Module, imgsz: number, forward: (g: Graph) => void): ModelFigures {
  const { total, trainable } = countParameters(model);
  return { parameters: total, trainable, gflops: countFlops(model, forward), imgsz };
}
