import type { Tensor } from './ir.js';
import type { NdArray } from './ndarray.js';
import { neededNodes } from './onnx-writer.js';

/**
 * The float64 reference evaluator: runs a graph with every op's `evaluate`. Used by tests to check ONNX
 * emission against onnxruntime and gradients against finite differences; far too slow for training.
 */
export function evaluate(
  outputs: readonly Tensor[],
  feeds: ReadonlyMap<string, NdArray> | Record<string, NdArray>,
): NdArray[] {
  const get = (name: string) => (feeds instanceof Map ? feeds.get(name) : (feeds as Record<string, NdArray>)[name]);
  const values = new Map<Tensor, NdArray>();
  const valueOf = (t: Tensor): NdArray => {
    const v = values.get(t);
    if (v) return v;
    if (t.leaf) {
      const data = t.leaf.kind === 'const' ? t.leaf.data : get(t.leaf.name);
      if (!data) throw new Error(`no value fed for ${t.leaf.kind} "${t.leaf.name}"`);
      if (data.shape.join() !== t.shape.join()) {
        throw new Error(`"${t.leaf.name}" fed as [${data.shape.join(', ')}], graph expects [${t.shape.join(', ')}]`);
      }
      values.set(t, data);
      return data;
    }
    throw new Error(`${t} was not computed`);
  };
  const graph = outputs[0]!.graph;
  for (const node of neededNodes(graph, outputs)) {
    const res = node.op.evaluate(node.inputs.map(valueOf), node.attrs as never, node);
    node.outputs.forEach((o, i) => values.set(o, res[i]!));
  }
  return outputs.map(valueOf);
}
