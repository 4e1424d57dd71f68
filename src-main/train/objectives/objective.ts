/**
 * A head's training objective: the target inputs and loss graph for the train step, and the feeds for a batch.
 * One file per head in this folder, registered under the head's name (objectives/index.ts imports them); the
 * trainer asks for the objective of its model's head and never learns which it is.
 */
import type { Graph, Tensor } from '../../engine/ir.js';
import type { Detector } from '../../models/detector.js';
import type { Feed } from '../../runtime/session.js';
import type { Batch } from '../loader.js';

export interface Objective {
  /** Adds the target inputs and returns the loss with its named terms. */
  loss(g: Graph, model: Detector, images: Tensor, batch: number): { loss: Tensor; terms: Record<string, Tensor> };
  /** Target feeds for one batch (images are fed by the trainer). */
  feeds(batch: Batch): Record<string, Feed>;
}

export type ObjectiveFactory = (model: Detector, o: { imgsz: number }) => Objective;

const registry = new Map<string, ObjectiveFactory>();

export function registerObjective(head: string, make: ObjectiveFactory): void {
  if (registry.has(head)) throw new Error(`an objective for head ${head} is registered twice`);
  registry.set(head, make);
}

/** Heads that can be trained. */
export const trainableHeads = (): string[] => [...registry.keys()];

export function objectiveFor(model: Detector, o: { imgsz: number }): Objective {
  const make = registry.get(model.config.head);
  if (!make)
    throw new Error(
      `a model with head '${model.config.head}' has no detection output to train (trainable heads: ${trainableHeads().join(', ')})`,
    );
  return make(model, o);
}
