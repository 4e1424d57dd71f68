import type { NdArray } from './ndarray.js';

/**
 * The engine's graph IR: tensors with static shapes and dtypes, produced by nodes of registered ops.
 * Building a model runs TypeScript that creates nodes; nothing is computed until the graph is written to
 * ONNX and run by onnxruntime (or evaluated by the float64 reference evaluator in tests).
 */

export type DType = 'float32' | 'int64' | 'bool';

export interface Meta {
  shape: number[];
  dtype: DType;
}

/** What an op writes into the ONNX graph. Implemented by the ONNX writer. */
export interface Emitter {
  /** Adds an ONNX node. Attribute values: number (int or float by `floats`), number[], string, or a tensor. */
  node(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, OnnxAttr>): void;
  /** A fresh value name. */
  tmp(hint?: string): string;
  /** The name of an int64 constant (deduplicated). */
  int64s(values: readonly number[], shape?: readonly number[]): string;
  /** The name of a float32 constant (deduplicated). */
  floats(values: readonly number[], shape?: readonly number[]): string;
}

export type OnnxAttr =
  { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

/**
 * One op: its shape rule, its ONNX emission, its vector-Jacobian product (written with other IR ops) and
 * its float64 reference evaluation. Ops without `vjp` are not differentiable (argmax, top-k, comparisons).
 */
export interface OpDef<A = Record<string, unknown>> {
  readonly type: string;
  infer(inputs: readonly Meta[], attrs: A): Meta[];
  emit(e: Emitter, inputs: string[], outputs: string[], attrs: A, node: Node): void;
  /** Gradients of the inputs from the gradients of the outputs (null = no gradient flows). */
  vjp?(node: Node, gradOutputs: (Tensor | null)[]): (Tensor | null)[];
  evaluate(inputs: NdArray[], attrs: A, node: Node): NdArray[];
}

export type LeafKind = 'input' | 'param' | 'buffer' | 'const';

let nextId = 0;

export class Node {
  readonly id = nextId++;
  readonly outputs: Tensor[];

  constructor(
    readonly graph: Graph,
    readonly op: OpDef<never>,
    readonly inputs: readonly Tensor[],
    readonly attrs: Readonly<Record<string, unknown>>,
    metas: Meta[],
  ) {
    this.outputs = metas.map((m, i) => new Tensor(graph, m.shape, m.dtype, this, i));
  }
}

export class Tensor {
  readonly id = nextId++;
  /** For leaves: what kind, its name (inputs/params/buffers) and data (consts). */
  leaf?: { kind: LeafKind; name: string; data?: NdArray };

  constructor(
    readonly graph: Graph,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly node: Node | null,
    readonly index = 0,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  toString(): string {
    const what = this.leaf ? `${this.leaf.kind} ${this.leaf.name}` : `${this.node!.op.type} output ${this.index}`;
    return `${what} [${this.shape.join(', ')}] ${this.dtype}`;
  }
}

/** A graph under construction. Leaves are created through it; nodes through `apply`. */
export class Graph {
  readonly nodes: Node[] = [];
  readonly leaves: Tensor[] = [];
  private readonly byName = new Map<string, Tensor>();
  /** New values for buffers computed by the graph (BatchNorm running stats in training mode). */
  readonly bufferUpdates = new Map<string, Tensor>();

  private leafOf(kind: LeafKind, name: string, shape: readonly number[], dtype: DType, data?: NdArray): Tensor {
    const t = new Tensor(this, [...shape], dtype, null);
    t.leaf = { kind, name, ...(data ? { data } : {}) };
    this.leaves.push(t);
    return t;
  }

  /** A value fed at run time (images, targets). */
  input(name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (this.byName.has(name)) throw new Error(`graph already has a leaf named "${name}"`);
    const t = this.leafOf('input', name, shape, dtype);
    this.byName.set(name, t);
    return t;
  }

  /** A named parameter or buffer; the same name gives the same tensor. */
  named(kind: 'param' | 'buffer', name: string, shape: readonly number[]): Tensor {
    const existing = this.byName.get(name);
    if (existing) {
      if (existing.leaf!.kind !== kind || existing.shape.join() !== shape.join()) {
        throw new Error(`"${name}" is already a ${existing.leaf!.kind} of shape [${existing.shape.join(', ')}]`);
      }
      return existing;
    }
    const t = this.leafOf(kind, name, shape, 'float32');
    this.byName.set(name, t);
    return t;
  }

  constant(data: NdArray, dtype: DType = 'float32'): Tensor {
    return this.leafOf('const', `const${this.leaves.length}`, data.shape, dtype, data);
  }

  leaf(name: string): Tensor | undefined {
    return this.byName.get(name);
  }

  apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    for (const t of inputs) {
      if (t.graph !== this) throw new Error(`${op.type}: an input belongs to another graph`);
    }
    let metas: Meta[];
    try {
      metas = op.infer(
        inputs.map((t) => ({ shape: [...t.shape], dtype: t.dtype })),
        attrs,
      );
    } catch (e) {
      const shapes = inputs.map((t) => `[${t.shape.join(', ')}]`).join(', ');
      throw new Error(`${op.type}: ${(e as Error).message} (inputs ${shapes})`);
    }
    const node = new Node(this, op as OpDef<never>, inputs, attrs as Record<string, unknown>, metas);
    this.nodes.push(node);
    return [...node.outputs]; // a copy: callers may push onto the list they get (C2f does)
  }
}

/** Applies a single-output op. */
export function apply1<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  return inputs[0]!.graph.apply(op, inputs, attrs)[0]!;
}

/** Normalizes a possibly negative axis for a rank. */
export function axisOf(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}
