import type { Module, Parameter } from './nn.js';

/**
 * Optimizers that update parameters between train steps: SGD (momentum, Nesterov), AdamW, gradient
 * clipping, parameter groups (weight decay off for BatchNorm weights and biases) and serializable state
 * for exact resume. Updates follow PyTorch's formulas so runs compare one to one.
 */

export interface ParamGroup {
  name: string;
  params: Parameter[];
  lr: number;
  weightDecay: number;
  /** SGD momentum or Adam beta1; schedules (warmup) may change it per step. */
  momentum: number;
}

/** Ultralytics' three groups: weights with decay, normalization weights without, biases without. */
export function paramGroups(model: Module, o: { lr: number; weightDecay: number; momentum: number }): ParamGroup[] {
  const decay: Parameter[] = [];
  const norm: Parameter[] = [];
  const bias: Parameter[] = [];
  for (const p of model.parameters()) {
    if (!p.requiresGrad) continue;
    if (p.name.endsWith('.bias') || p.name === 'bias') bias.push(p);
    else if (p.shape.length === 1)
      norm.push(p); // BatchNorm/LayerNorm weights (and any 1-d scale)
    else decay.push(p);
  }
  return [
    { name: 'weights', params: decay, lr: o.lr, weightDecay: o.weightDecay, momentum: o.momentum },
    { name: 'norm', params: norm, lr: o.lr, weightDecay: 0, momentum: o.momentum },
    { name: 'bias', params: bias, lr: o.lr, weightDecay: 0, momentum: o.momentum },
  ];
}

export interface OptimizerState {
  kind: string;
  step: number;
  groups: { name: string; lr: number; momentum: number; weightDecay: number }[];
  /** Per-parameter slots, keyed `<slot>/<param name>`. */
  slots: Record<string, Float32Array>;
}

export abstract class Optimizer {
  step = 0;
  protected slots = new Map<string, Float32Array>();

  constructor(readonly groups: ParamGroup[]) {}

  protected slot(name: string, p: Parameter): Float32Array {
    const key = `${name}/${p.name}`;
    let s = this.slots.get(key);
    if (!s) {
      s = new Float32Array(p.size);
      this.slots.set(key, s);
    }
    return s;
  }

  /** Applies one update from gradients; parameters without a gradient are left alone. */
  update(grads: ReadonlyMap<Parameter, Float32Array>): void {
    this.step++;
    for (const g of this.groups)
      for (const p of g.params) {
        const grad = grads.get(p);
        if (grad) this.apply(g, p, grad);
      }
  }

  protected abstract apply(group: ParamGroup, p: Parameter, grad: Float32Array): void;
  abstract readonly kind: string;

  state(): OptimizerState {
    return {
      kind: this.kind,
      step: this.step,
      groups: this.groups.map((g) => ({ name: g.name, lr: g.lr, momentum: g.momentum, weightDecay: g.weightDecay })),
      slots: Object.fromEntries(this.slots),
    };
  }

  load(s: OptimizerState): void {
    if (s.kind !== this.kind) throw new Error(`optimizer state is for ${s.kind}, not ${this.kind}`);
    if (s.groups.length !== this.groups.length)
      throw new Error(`optimizer state has ${s.groups.length} groups, expected ${this.groups.length}`);
    this.step = s.step;
    s.groups.forEach((g, i) =>
      Object.assign(this.groups[i]!, { lr: g.lr, momentum: g.momentum, weightDecay: g.weightDecay }),
    );
    const sizes = new Map(this.groups.flatMap((g) => g.params.map((p) => [p.name, p.size] as const)));
    this.slots = new Map();
    for (const [key, v] of Object.entries(s.slots)) {
      const name = key.slice(key.indexOf('/') + 1);
      if (sizes.get(name) !== v.length)
        throw new Error(`optimizer slot ${key}: ${v.length} values do not fit the parameter`);
      this.slots.set(key, Float32Array.from(v));
    }
  }
}

/** PyTorch SGD: d = g + wd*p; buf = mu*buf + d (first step: buf = d); d = nesterov ? d + mu*buf : buf; p -= lr*d. */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  constructor(
    groups: ParamGroup[],
    readonly nesterov = false,
  ) {
    super(groups);
  }
  protected apply(g: ParamGroup, p: Parameter, grad: Float32Array): void {
    const w = p.data;
    const mu = g.momentum;
    const wd = g.weightDecay;
    const lr = g.lr;
    if (mu === 0) {
      for (let i = 0; i < w.length; i++) w[i]! -= lr * (grad[i]! + wd * w[i]!);
      return;
    }
    const first = !this.slots.has(`momentum/${p.name}`);
    const buf = this.slot('momentum', p);
    for (let i = 0; i < w.length; i++) {
      const d = grad[i]! + wd * w[i]!;
      const b = first ? d : mu * buf[i]! + d;
      buf[i] = b;
      w[i]! -= lr * (this.nesterov ? d + mu * b : b);
    }
  }
}

/** PyTorch AdamW: decoupled decay p *= 1 - lr*wd, then Adam with bias correction. `momentum` is beta1. */
export class AdamW extends Optimizer {
  readonly kind = 'adamw';
  constructor(
    groups: ParamGroup[],
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
  ) {
    super(groups);
  }
  protected apply(g: ParamGroup, p: Parameter, grad: Float32Array): void {
    const w = p.data;
    const m = this.slot('exp_avg', p);
    const v = this.slot('exp_avg_sq', p);
    const b1 = g.momentum;
    const b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, this.step);
    const c2 = Math.sqrt(1 - Math.pow(b2, this.step));
    const decay = 1 - g.lr * g.weightDecay;
    const stepSize = g.lr / c1;
    for (let i = 0; i < w.length; i++) {
      const gi = grad[i]!;
      w[i]! *= decay;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      w[i]! -= (stepSize * m[i]!) / (Math.sqrt(v[i]!) / c2 + this.eps);
    }
  }
}

/** Scales gradients in place so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(grads: ReadonlyMap<Parameter, Float32Array>, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  const norm = Math.sqrt(sq);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / (norm + 1e-6);
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= s;
  }
  return norm;
}

/**
 * Exponential moving average of the weights (and buffers) for validation and export, with Ultralytics'
 * ramp: decay_t = decay * (1 - exp(-t / tau)).
 */
export class EMA {
  updates = 0;
  readonly shadow = new Map<string, Float32Array>();

  constructor(
    readonly model: Module,
    readonly decay = 0.9999,
    readonly tau = 2000,
  ) {
    for (const [name, p] of model.namedTensors()) this.shadow.set(name, Float32Array.from(p.data));
  }

  update(): void {
    this.updates++;
    const d = this.decay * (1 - Math.exp(-this.updates / this.tau));
    for (const [name, p] of this.model.namedTensors()) {
      const s = this.shadow.get(name)!;
      for (let i = 0; i < s.length; i++) s[i] = d * s[i]! + (1 - d) * p.data[i]!;
    }
  }
}
