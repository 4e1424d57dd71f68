import type ort from 'onnxruntime-node';
import type { Feed, Runner } from '../runtime/session.js';
import { gradients } from './autodiff.js';
import { Graph, type Tensor } from './ir.js';
import { nameModules, type Module, type Parameter } from './nn.js';
import { encodeModel } from './onnx-writer.js';

/**
 * One training step as one ONNX graph: inputs are the batch, the targets, every parameter and buffer;
 * outputs are the loss terms, one gradient per trainable parameter and the new buffer values (BatchNorm
 * running statistics). The optimizer runs between steps in TypeScript.
 */

export interface LossSpec {
  /** The scalar that is differentiated. */
  loss: Tensor;
  /** Scalars reported alongside (box, cls, dfl...). */
  terms?: Record<string, Tensor>;
}

/**
 * Named sizes of a graph's inputs beyond the batch (the padded box count of the targets): each set of values is
 * its own compiled graph, so a batch of few boxes does not pay for the largest.
 */
export type StepDims = Readonly<Record<string, number>>;

/** Builds forward + loss for a batch of `batch` samples; batch and target inputs come from `g.input`. */
export type BuildLoss = (g: Graph, model: Module, batch: number, dims: StepDims) => LossSpec;

export interface StepResult {
  loss: number;
  terms: Record<string, number>;
  grads: Map<Parameter, Float32Array>;
}

interface Compiled {
  key: string;
  bytes: Uint8Array;
  inputs: Set<string>;
  trainable: Parameter[];
  updatedBuffers: Parameter[];
  terms: string[];
  /** Per-step random keep masks (drop path): input name, shape and drop rate. */
  masks: { name: string; shape: readonly number[]; rate: number }[];
}

export class TrainStep {
  private readonly compiled = new Map<string, Compiled>();
  private readonly tensors: Map<string, Parameter>;

  constructor(
    private readonly runner: Runner,
    readonly model: Module,
    private readonly build: BuildLoss,
    private readonly name = 'train',
  ) {
    nameModules(model);
    this.tensors = new Map([...model.namedTensors()]);
  }

  /** Compiles (once per batch size and dims) the forward + loss + backward graph. */
  compile(batch: number, dims: StepDims = {}): Compiled {
    const shape = `b${batch}${Object.entries(dims)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `:${k}${v}`)
      .join('')}`;
    const hit = this.compiled.get(shape);
    if (hit) return hit;
    const g = new Graph();
    this.model.train(true);
    const spec = this.build(g, this.model, batch, dims);
    const trainable = [...this.tensors.values()].filter((p) => p.kind === 'param' && p.requiresGrad && g.leaf(p.name));
    const grads = gradients(
      spec.loss,
      trainable.map((p) => p.in(g)),
    );
    const outputs: Record<string, Tensor> = { loss: spec.loss };
    for (const [k, t] of Object.entries(spec.terms ?? {})) outputs[`term:${k}`] = t;
    trainable.forEach((p, i) => (outputs[`grad:${p.name}`] = grads[i]!));
    const updatedBuffers: Parameter[] = [];
    for (const [name, t] of g.bufferUpdates) {
      outputs[`buffer:${name}`] = t;
      updatedBuffers.push(this.tensors.get(name)!);
    }
    const masks = g.leaves
      .filter((t) => t.leaf!.kind === 'input' && t.leaf!.name.startsWith('droppath:'))
      .map((t) => ({ name: t.leaf!.name, shape: t.shape, rate: Number(t.leaf!.name.split(':')[1]) }));
    const { bytes, inputs } = encodeModel({ graph: g, outputs, name: this.name });
    const c: Compiled = {
      key: `${this.name}:${shape}`,
      bytes,
      inputs: new Set(inputs),
      trainable,
      updatedBuffers,
      terms: Object.keys(spec.terms ?? {}),
      masks,
    };
    this.compiled.set(shape, c);
    return c;
  }

  /** The compiled ONNX bytes for a batch size (for inspection and benchmarks). */
  onnx(batch: number, dims: StepDims = {}): Uint8Array {
    return this.compile(batch, dims).bytes;
  }

  /**
   * Runs one step. `random` (uniform in [0,1)) draws the drop-path masks, so a seeded stream reproduces a run.
   * Buffer updates are written back into the model; gradients are returned for the optimizer.
   */
  async run(
    batch: number,
    feeds: Record<string, Feed>,
    random: () => number = Math.random,
    dims: StepDims = {},
  ): Promise<StepResult> {
    const c = this.compile(batch, dims);
    const all: Record<string, Feed> = {};
    for (const [k, f] of Object.entries(feeds)) if (c.inputs.has(k)) all[k] = f;
    for (const p of this.tensors.values()) {
      if (c.inputs.has(p.name)) all[p.name] = { dtype: 'float32', shape: p.shape, data: p.data };
    }
    for (const m of c.masks) {
      all[m.name] = {
        dtype: 'float32',
        shape: m.shape,
        data: Float32Array.from({ length: m.shape[0]! }, () => (random() >= m.rate ? 1 : 0)),
      };
    }
    const missing = [...c.inputs].filter((k) => !(k in all));
    if (missing.length) throw new Error(`train step: no value for input(s) ${missing.join(', ')}`);
    // No memory pattern: its preplanned block for the kept activations is larger than the model's live peak.
    const out = await this.runner.run(c.key, () => c.bytes, all, { memPattern: false });
    const grads = new Map<Parameter, Float32Array>();
    for (const p of c.trainable) grads.set(p, out[`grad:${p.name}`]!.data as Float32Array);
    for (const b of c.updatedBuffers) b.data = Float32Array.from(out[`buffer:${b.name}`]!.data as Float32Array);
    const scalar = (t: ort.Tensor) => Number((t.data as Float32Array)[0]);
    return {
      loss: scalar(out.loss!),
      terms: Object.fromEntries(c.terms.map((k) => [k, scalar(out[`term:${k}`]!)])),
      grads,
    };
  }
}
