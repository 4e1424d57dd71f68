import type { Node, Tensor } from './ir.js';
import { add } from './ops/elementwise.js';
import { expand } from './ops/shape.js';

/**
 * Reverse-mode autodiff over the IR. One reverse walk over the nodes between `wrt` and `loss`:
 * nodes that do not lie on a path from some `wrt` tensor to the loss are skipped, gradients of tensors used
 * more than once are summed. Each op's `vjp` writes its input gradients with ordinary IR ops, so the backward
 * graph is just more graph.
 */
export function gradients(loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (loss.size !== 1) throw new Error(`the loss must be a scalar, got [${loss.shape.join(', ')}]`);
  const graph = loss.graph;

  // Forward marking: which tensors depend on a wrt tensor.
  const dependsOnWrt = new Set<Tensor>(wrt);
  for (const node of graph.nodes) {
    if (node.inputs.some((t) => dependsOnWrt.has(t))) for (const o of node.outputs) dependsOnWrt.add(o);
  }
  // Backward marking: which nodes the loss needs.
  const needed = new Set<Node>();
  const stack: Tensor[] = [loss];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.node) continue;
    seen.add(t);
    needed.add(t.node);
    stack.push(...t.node.inputs);
  }

  const grads = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, g: Tensor) => {
    const prev = grads.get(t);
    grads.set(t, prev ? add(prev, g) : g);
  };
  grads.set(loss, expand(loss.graph.constant({ shape: [], data: new Float64Array([1]) }), loss.shape));

  // graph.nodes is in creation order, which is topological; walk it backwards. Nodes created by vjp calls
  // are appended after the snapshot and never visited.
  const nodes = graph.nodes.slice();
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    if (!needed.has(node) || !node.outputs.some((o) => dependsOnWrt.has(o))) continue;
    const gy = node.outputs.map((o) => grads.get(o) ?? null);
    if (gy.every((g) => g === null)) continue;
    if (!node.op.vjp) {
      if (node.inputs.some((t) => dependsOnWrt.has(t) && t.dtype === 'float32')) {
        throw new Error(`${node.op.type} is not differentiable, but a gradient must flow through it`);
      }
      continue;
    }
    const gx = node.op.vjp(node, gy);
    node.inputs.forEach((t, i) => {
      const g = gx[i];
      if (g && dependsOnWrt.has(t)) {
        if (g.shape.join() !== t.shape.join()) {
          throw new Error(
            `${node.op.type}: gradient shape [${g.shape.join(', ')}] != input shape [${t.shape.join(', ')}]`,
          );
        }
        accumulate(t, g);
      }
    });
  }
  return wrt.map((t) => grads.get(t) ?? expand(graph.constant({ shape: [], data: new Float64Array([0]) }), t.shape));
}
