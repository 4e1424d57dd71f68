import { Node, type Graph, type Tensor } from './ir.js';
import { BatchNormEval } from './ops/norm.js';

/**
 * Export-time graph rewrite: folds every inference BatchNorm that directly follows a conv (and is its only
 * consumer) into that conv's weight and bias:
 *   W' = W * gamma / sqrt(var + eps)      b' = (b - mean) * gamma / sqrt(var + eps) + beta
 * The folded weights become new named parameters `<conv weight>` / `<conv bias>` in `weights`
 * (the originals are replaced), so the written ONNX has plain Conv nodes with baked weights.
 */
export function foldBatchNorms(
  graph: Graph,
  outputs: Record<string, Tensor>,
  weights: Map<string, Float32Array>,
): number {
  const consumers = new Map<Tensor, Node[]>();
  for (const n of graph.nodes) for (const t of n.inputs) consumers.set(t, [...(consumers.get(t) ?? []), n]);
  const outputSet = new Set(Object.values(outputs));
  const replace = new Map<Tensor, Tensor>();
  let folded = 0;

  for (const bn of graph.nodes) {
    if (bn.op !== BatchNormEval) continue;
    const [x, gamma, beta, mean, variance] = bn.inputs as Tensor[];
    const conv = x!.node;
    if (!conv || conv.op.type !== 'conv2d' || consumers.get(x!)?.length !== 1 || outputSet.has(x!)) continue;
    const [cin, w, b] = conv.inputs as [Tensor, Tensor, Tensor | undefined];
    const leafData = (t: Tensor | undefined) =>
      t?.leaf && t.leaf.kind !== 'input' ? weights.get(t.leaf.name) : undefined;
    const W = leafData(w);
    const [g, be, m, v] = [gamma, beta, mean, variance].map(leafData);
    if (!W || !g || !be || !m || !v || (b && !leafData(b))) continue;
    const eps = (bn.attrs as { eps: number }).eps;
    const co = w.shape[0]!;
    const per = W.length / co;
    const W2 = new Float32Array(W.length);
    const b2 = new Float32Array(co);
    const B = b ? leafData(b)! : new Float32Array(co);
    for (let o = 0; o < co; o++) {
      const s = g[o]! / Math.sqrt(v[o]! + eps);
      for (let k = 0; k < per; k++) W2[o * per + k] = W[o * per + k]! * s;
      b2[o] = (B[o]! - m[o]!) * s + be[o]!;
    }
    const wName = `${w.leaf!.name}#folded`;
    const bName = `${w.leaf!.name.replace(/weight$/, 'bias')}#folded`;
    weights.set(wName, W2);
    weights.set(bName, b2);
    const newConv = new Node(
      graph,
      conv.op,
      [cin, graph.named('param', wName, w.shape), graph.named('param', bName, [co])],
      conv.attrs,
      [{ shape: [...bn.outputs[0]!.shape], dtype: 'float32' }],
    );
    graph.nodes.splice(graph.nodes.indexOf(bn), 1, newConv);
    replace.set(bn.outputs[0]!, newConv.outputs[0]!);
    folded++;
  }
  if (!replace.size) return 0;
  for (const n of graph.nodes) (n.inputs as Tensor[]).forEach((t, i, arr) => (arr[i] = replace.get(t) ?? t));
  for (const [k, t] of Object.entries(outputs)) outputs[k] = replace.get(t) ?? t;
  return folded;
}
