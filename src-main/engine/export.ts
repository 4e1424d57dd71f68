import { foldBatchNorms } from './fold.js';
import { Graph, type Tensor } from './ir.js';
import { nameModules, type Module } from './nn.js';
import { encodeModel } from './onnx-writer.js';

/**
 * Inference graphs: the model in eval mode with its weights baked in as initializers, BatchNorm folded
 * into the preceding convs, and a symbolic batch dimension.
 */
export interface InferenceOptions {
  /** Input name and shape with a representative batch size (the batch dimension is made dynamic). */
  input: { name: string; shape: number[] };
  /** Named outputs from the model's forward (default: `{ output: model.forward(x) }`). */
  outputs?: (x: Tensor, model: Module, g: Graph) => Record<string, Tensor>;
  fold?: boolean;
  dynamicBatch?: boolean;
  metadata?: Record<string, string>;
  name?: string;
}

export function inferenceModel(model: Module, o: InferenceOptions): { bytes: Uint8Array; folded: number } {
  nameModules(model);
  const wasTraining = model.training;
  model.eval();
  try {
    const g = new Graph();
    const x = g.input(o.input.name, o.input.shape);
    const outputs = o.outputs ? o.outputs(x, model, g) : { output: model.forward(x) };
    const weights = new Map([...model.namedTensors()].map(([n, p]) => [n, p.data]));
    const folded = o.fold === false ? 0 : foldBatchNorms(g, outputs, weights);
    const dyn = o.dynamicBatch !== false;
    const { bytes } = encodeModel({
      graph: g,
      outputs,
      initializers: weights,
      ...(dyn ? { dynamicBatch: { inputs: [o.input.name], outputs: Object.keys(outputs) } } : {}),
      ...(o.metadata ? { metadata: o.metadata } : {}),
      name: o.name ?? 'starling',
    });
    return { bytes, folded };
  } finally {
    model.train(wasTraining);
  }
}
