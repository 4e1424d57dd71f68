/**
 * Fixed-value adaptive loss weights (centerX's "communism" loss): every term is multiplied each step by
 * target / (its own detached value), so its contribution to the loss always equals its target and its gradient
 * is target x grad(log term). A term running away (a diverging box loss, an exploding distillation term) cannot
 * take the update with it, which is what lets a high learning rate train (docs/benchmarks.md).
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/ir.js';

/** Below this a term is taken as this (no positives this batch): its gradient is then about zero anyway. */
const FLOOR = 1e-6;

export function adaptiveLoss(terms: Record<string, Tensor>, targets: Record<string, number>, scale: number): Tensor {
  let loss: Tensor | null = null;
  for (const [name, term] of Object.entries(terms)) {
    const target = targets[name];
    if (target === undefined)
      throw new Error(`adaptive loss weights: no target for the term "${name}" (set loss.targets.${name})`);
    const part = F.mul(F.div(term, F.maximum(F.detach(term), FLOOR)), target * scale);
    loss = loss ? F.add(loss, part) : part;
  }
  if (!loss) throw new Error('adaptive loss weights: the objective has no terms');
  return loss;
}
