import type { Graph, Tensor } from './ir.js';
import * as F from './functional.js';
import { Rng } from '../util/random.js';

/**
 * A module system that reads like PyTorch's `nn`, so reference architectures translate line by line.
 * Modules own parameters and buffers (Float32Array data) and build graph nodes in `forward`. Names follow
 * PyTorch's state_dict (`stages.0.1.dwconv.conv.weight`), so checkpoints map across.
 */

export class Parameter {
  /** Full dotted name, assigned by `nameModules`. */
  name = '';
  constructor(
    readonly shape: readonly number[],
    public data: Float32Array,
    readonly kind: 'param' | 'buffer' = 'param',
    public requiresGrad = kind === 'param',
  ) {
    if (data.length !== shape.reduce((a, b) => a * b, 1))
      throw new Error(`data length ${data.length} does not fit [${shape.join(', ')}]`);
  }

  get size(): number {
    return this.data.length;
  }

  /** The graph leaf for this parameter (created once per graph). */
  in(g: Graph): Tensor {
    if (!this.name) throw new Error('parameter has no name: build graphs through a named root module (nameModules)');
    return g.named(this.kind, this.name, this.shape);
  }
}

// ---- initialization ------------------------------------------------------------------------------
let initRng = new Rng('starling-init', 0);
/** Seeds weight initialization of modules constructed afterwards (reproducible models). */
export function seedInit(seed: number | string): void {
  initRng = new Rng('starling-init', seed);
}
export function uniform(n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = initRng.range(-bound, bound);
  return a;
}
export const filled = (n: number, v: number): Float32Array => new Float32Array(n).fill(v);

// ---- Module ---------------------------------------------------------------------------------------
export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Parameter>();
  private readonly _children = new Map<string, Module>();

  protected param(name: string, shape: readonly number[], data: Float32Array): Parameter {
    const p = new Parameter(shape, data, 'param');
    this._params.set(name, p);
    return p;
  }

  protected buffer(name: string, shape: readonly number[], data: Float32Array): Parameter {
    const p = new Parameter(shape, data, 'buffer');
    this._params.set(name, p);
    return p;
  }

  /** Registers a submodule under `name` (numbers for sequences, as PyTorch does). */
  add<M extends Module>(name: string | number, m: M): M {
    this._children.set(String(name), m);
    return m;
  }

  children(): [string, Module][] {
    return [...this._children.entries()];
  }

  /** Every parameter and buffer with its dotted name, in registration order (depth-first). */
  *namedTensors(prefix = ''): Generator<[string, Parameter]> {
    for (const [n, p] of this._params) yield [prefix + n, p];
    for (const [n, m] of this._children) yield* m.namedTensors(`${prefix}${n}.`);
  }

  parameters(): Parameter[] {
    return [...this.namedTensors()].map(([, p]) => p).filter((p) => p.kind === 'param');
  }

  buffers(): Parameter[] {
    return [...this.namedTensors()].map(([, p]) => p).filter((p) => p.kind === 'buffer');
  }

  train(on = true): this {
    this.training = on;
    for (const m of this._children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  abstract forward(...xs: Tensor[]): Tensor;
}

/** Assigns every parameter its full dotted name; call once on the root before building graphs. */
export function nameModules<M extends Module>(root: M): M {
  for (const [name, p] of root.namedTensors()) p.name = name;
  return root;
}

export function countParameters(m: Module): { total: number; trainable: number } {
  const ps = m.parameters();
  return {
    total: ps.reduce((a, p) => a + p.size, 0),
    trainable: ps.filter((p) => p.requiresGrad).reduce((a, p) => a + p.size, 0),
  };
}

// ---- layers ---------------------------------------------------------------------------------------
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly opts: { stride?: number; padding?: number; dilation?: number; groups?: number; bias?: boolean } = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    const fanIn = (inChannels / groups) * kernel * kernel;
    // PyTorch's default: kaiming_uniform(a=sqrt(5)) => U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.param(
      'weight',
      [outChannels, inChannels / groups, kernel, kernel],
      uniform(outChannels * fanIn, bound),
    );
    this.bias = opts.bias === false ? null : this.param('bias', [outChannels], uniform(outChannels, bound));
  }
  forward(x: Tensor): Tensor {
    const g = x.graph;
    return F.conv2d(x, this.weight.in(g), this.bias?.in(g) ?? null, {
      stride: this.opts.stride ?? 1,
      padding: this.opts.padding ?? 0,
      dilation: this.opts.dilation ?? 1,
      groups: this.opts.groups ?? 1,
    });
  }
}

export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: Parameter;
  readonly runningVar: Parameter;
  constructor(
    readonly channels: number,
    /** Settable, as Ultralytics' initialize_weights sets every BatchNorm of a model after it is built. */
    public eps = 1e-5,
    public momentum = 0.1,
  ) {
    super();
    this.weight = this.param('weight', [channels], filled(channels, 1));
    this.bias = this.param('bias', [channels], filled(channels, 0));
    this.runningMean = this.buffer('running_mean', [channels], filled(channels, 0));
    this.runningVar = this.buffer('running_var', [channels], filled(channels, 1));
  }
  forward(x: Tensor): Tensor {
    const g = x.graph;
    const r = F.batchNorm2d(x, this.weight.in(g), this.bias.in(g), this.runningMean.in(g), this.runningVar.in(g), {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
    if (r.runningMean) g.bufferUpdates.set(this.runningMean.name, r.runningMean);
    if (r.runningVar) g.bufferUpdates.set(this.runningVar.name, r.runningVar);
    return r.y;
  }
}

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', [outFeatures, inFeatures], uniform(outFeatures * inFeatures, bound));
    this.bias = bias ? this.param('bias', [outFeatures], uniform(outFeatures, bound)) : null;
  }
  forward(x: Tensor): Tensor {
    const g = x.graph;
    return F.linear(x, this.weight.in(g), this.bias?.in(g) ?? null);
  }
}

/** A stateless function as a module (activations, pooling, reshapes). */
export class Lambda extends Module {
  constructor(
    readonly label: string,
    readonly fn: (x: Tensor) => Tensor,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}
export const ReLU = () => new Lambda('ReLU', F.relu);
export const ReLU6 = () => new Lambda('ReLU6', F.relu6);
export const SiLU = () => new Lambda('SiLU', F.silu);
export const Sigmoid = () => new Lambda('Sigmoid', F.sigmoid);
export const Hardswish = () => new Lambda('Hardswish', F.hardswish);
export const Hardsigmoid = () => new Lambda('Hardsigmoid', F.hardsigmoid);
export const Identity = () => new Lambda('Identity', (x) => x);

export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.add(i, m));
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}

/**
 * Stochastic depth: in training, each sample's branch is kept with probability 1 - rate and scaled by
 * 1/(1 - rate). The per-sample keep mask is a graph input, `droppath:<rate>:<id>`, that the train step fills
 * from its seeded random stream, so runs stay reproducible.
 */
export class DropPath extends Module {
  private static counter = 0;
  private readonly id = DropPath.counter++;
  constructor(readonly rate: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.rate <= 0) return x;
    const g = x.graph;
    const key = `droppath:${this.rate}:${this.id}`;
    const mask = g.leaf(key) ?? g.input(key, [x.shape[0]!, 1, 1, 1]);
    return F.mul(x, F.div(mask, 1 - this.rate));
  }
}
