import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import type { DType, Emitter, Graph, Node, OnnxAttr, Tensor } from './ir.js';
import type { NdArray } from './ndarray.js';

const { onnx } = onnxProto;

/**
 * Serializes IR to an ONNX ModelProto (opset 17, standard ops only). Only the nodes the outputs need are
 * written. Parameters and buffers become graph inputs (train-step graphs, fed each step) or initializers
 * (eval/export graphs, weights baked in).
 */

export const OPSET = 17;
const IR_VERSION = 8;
const ELEM: Record<DType, number> = { float32: 1, int64: 7, bool: 9 };

export interface OnnxGraphSpec {
  graph: Graph;
  /** Graph outputs, by name. */
  outputs: Record<string, Tensor>;
  /** Parameter and buffer data to bake in as initializers; without it they are graph inputs. */
  initializers?: ReadonlyMap<string, Float32Array>;
  /** Names of inputs/outputs whose first dimension is the symbolic batch size. */
  dynamicBatch?: { inputs?: readonly string[]; outputs?: readonly string[] };
  metadata?: Record<string, string>;
  name?: string;
}

function tensorProto(
  name: string,
  dtype: DType,
  shape: readonly number[],
  values: ArrayLike<number>,
): OnnxTypes.ITensorProto {
  const base = { name, dims: [...shape], dataType: ELEM[dtype] };
  if (dtype === 'float32') {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    return { ...base, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
  }
  if (dtype === 'int64') {
    const b = BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
    return { ...base, rawData: new Uint8Array(b.buffer) };
  }
  return { ...base, int32Data: Array.from(values, (v) => (v ? 1 : 0)) };
}

function valueInfo(
  name: string,
  dtype: DType,
  shape: readonly number[],
  dynamicBatch: boolean,
): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[dtype],
        shape: { dim: shape.map((d, i) => (i === 0 && dynamicBatch ? { dimParam: 'batch' } : { dimValue: d })) },
      },
    },
  };
}

function attribute(name: string, a: OnnxAttr): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: T.FLOATS, floats: a.floats };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
}

/** The nodes needed to compute `outputs`, in graph (topological) order. */
export function neededNodes(graph: Graph, outputs: readonly Tensor[]): Node[] {
  const needed = new Set<Node>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (!t.node || needed.has(t.node)) continue;
    needed.add(t.node);
    stack.push(...t.node.inputs);
  }
  return graph.nodes.filter((n) => needed.has(n));
}

export function buildModel(spec: OnnxGraphSpec): OnnxTypes.IModelProto {
  const { graph } = spec;
  const nodes: OnnxTypes.INodeProto[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  const inputs: OnnxTypes.IValueInfoProto[] = [];
  const names = new Map<Tensor, string>();
  const constCache = new Map<string, string>();
  let counter = 0;

  const emitter: Emitter = {
    node: (opType, ins, outs, attrs = {}) => {
      nodes.push({
        opType,
        input: ins,
        output: outs,
        name: `${opType}_${nodes.length}`,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      });
    },
    tmp: (hint = 't') => `${hint}_${counter++}`,
    int64s: (values, shape = [values.length]) => constant('int64', values, shape),
    floats: (values, shape = [values.length]) => constant('float32', values, shape),
  };
  function constant(dtype: DType, values: ArrayLike<number>, shape: readonly number[]): string {
    const key = `${dtype}|${shape.join(',')}|${Array.from(values).join(',')}`;
    const hit = constCache.get(key);
    if (hit) return hit;
    const name = `c${constCache.size}`;
    constCache.set(key, name);
    initializers.push(tensorProto(name, dtype, shape, values));
    return name;
  }

  const dynIn = new Set(spec.dynamicBatch?.inputs ?? []);
  const nameOf = (t: Tensor): string => {
    const known = names.get(t);
    if (known) return known;
    let name: string;
    if (t.leaf) {
      const { kind, name: leafName, data } = t.leaf;
      if (kind === 'const') {
        name = data!.data.length <= 16 ? constant(t.dtype, data!.data, data!.shape) : `${leafName}_${t.id}`;
        if (data!.data.length > 16) initializers.push(tensorProto(name, t.dtype, data!.shape, (data as NdArray).data));
      } else {
        name = leafName;
        const baked = kind !== 'input' ? spec.initializers?.get(leafName) : undefined;
        if (baked) {
          if (baked.length !== t.size)
            throw new Error(`initializer ${leafName} has ${baked.length} values, needs ${t.size}`);
          initializers.push(tensorProto(name, 'float32', t.shape, baked));
        } else {
          inputs.push(valueInfo(name, t.dtype, t.shape, dynIn.has(name)));
        }
      }
    } else {
      name = `${t.node!.op.type}_${t.id}`;
    }
    names.set(t, name);
    return name;
  };

  const outputTensors = Object.values(spec.outputs);
  for (const node of neededNodes(graph, outputTensors)) {
    const ins = node.inputs.map(nameOf);
    const outs = node.outputs.map(nameOf);
    node.op.emit(emitter, ins, outs, node.attrs as never, node);
  }
  // Declared inputs keep a stable order: as the leaves were created.
  const leafOrder = new Map(graph.leaves.map((t, i) => [t.leaf!.name, i]));
  inputs.sort((a, b) => (leafOrder.get(a.name!) ?? 0) - (leafOrder.get(b.name!) ?? 0));

  const dynOut = new Set(spec.dynamicBatch?.outputs ?? []);
  const outputs: OnnxTypes.IValueInfoProto[] = [];
  for (const [outName, t] of Object.entries(spec.outputs)) {
    emitter.node('Identity', [nameOf(t)], [outName]);
    outputs.push(valueInfo(outName, t.dtype, t.shape, dynOut.has(outName)));
  }

  return {
    irVersion: IR_VERSION,
    producerName: 'starling',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: { name: spec.name ?? 'starling', node: nodes, initializer: initializers, input: inputs, output: outputs },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/** The serialized model and the names of the inputs it declares (only the leaves its outputs need). */
export function encodeModel(spec: OnnxGraphSpec): { bytes: Uint8Array; inputs: string[] } {
  const model = buildModel(spec);
  return {
    bytes: onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish(),
    inputs: (model.graph?.input ?? []).map((i) => i.name!),
  };
}

export function writeOnnx(spec: OnnxGraphSpec): Uint8Array {
  return encodeModel(spec).bytes;
}
