/**
 * A head's training objective: the target inputs and loss graph for the train step, and the feeds for a batch.
 * One file per head in this folder, registered under the head's name (objectives/index.ts imports them); the
 * trainer asks for the objective of its model's head and never learns which it is.
 */
import type { Graph, Tensor } from '../../engine/ir.js';
import type { StepDims } from '../../engine/train-step.js';
import type { Detector } from '../../models/detector.js';
import type { Feed } from '../../runtime/session.js';
import type { DistillGraphSpec } from '../distill/distiller.js';
import type { Batch } from '../loader.js';
import type { Source } from '../../inference/letterbox.js';
import type { TrainerHook } from '../hooks/hook.js';

export interface Objective {
  /**
   * Adds the target inputs (and, distilling, the class mask and the dense teachers' inputs) and returns the loss
   * with its named raw terms.
   */
  loss(
    g: Graph,
    model: Detector,
    images: Tensor,
    batch: number,
    dims?: StepDims,
  ): { loss: Tensor; terms: Record<string, Tensor> };
  /** Target feeds for one batch (images are fed by the trainer; a distillation hook feeds the teachers'). */
  feeds(batch: Batch): Record<string, Feed>;
  /**
   * Hooks the head's training needs, run before the trainer's own (yolov5: autoanchor before the first epoch);
   * `resume` says the run continues from its checkpoint.
   */
  hooks?(o: { train: readonly Source[]; resume: boolean; log: (line: string) => void }): TrainerHook[];
  /** The graph's sizes for this batch beyond its length (`loss` is built for them); none by default. */
  dims?(batch: Batch): StepDims;
  /**
   * Adaptive weighting (settings `loss.weighting`): the value each term is held at, and whether the loss is
   * scaled by the batch size (Ultralytics' yolo loss is, centerX's is not).
   */
  adaptive: { targets: Record<string, number>; perImage: boolean };
}

export interface ObjectiveOptions {
  imgsz: number;
  /** Gains over the head's, by term name (settings `loss.gains`); a name the head has not is refused. */
  gains?: Record<string, number>;
  /** Anchor-based heads: fit the anchors to the labels before a new run (settings `loss.autoanchor`; default on). */
  autoanchor?: boolean;
  /** A distillation run's graph inputs (train/distill/). */
  distill?: DistillGraphSpec;
}

export type ObjectiveFactory = (model: Detector, o: ObjectiveOptions) => Objective;

const registry = new Map<string, { make: ObjectiveFactory; gains: Record<string, number> }>();

/** Registers a head's objective with its loss terms' default gains (what `loss.gains` may override). */
export function registerObjective(head: string, make: ObjectiveFactory, gains: Record<string, number>): void {
  if (registry.has(head)) throw new Error(`an objective for head ${head} is registered twice`);
  registry.set(head, { make, gains });
}

/** A head's default gains by term, or undefined for a head that cannot be trained. */
export const headGains = (head: string): Record<string, number> | undefined => registry.get(head)?.gains;

/** The head's gains with `over` on top; names the term and the head's terms when a name is not one of them. */
export function resolveGains<T extends Record<string, number>>(head: string, over: Record<string, number> = {}): T {
  const gains = registry.get(head)!.gains;
  for (const k of Object.keys(over))
    if (!(k in gains))
      throw new Error(
        `loss.gains.${k}: the ${head} head has no loss term ${k} (its terms: ${Object.keys(gains).join(', ')})`,
      );
  return { ...gains, ...over } as T;
}

/** Heads that can be trained. */
export const trainableHeads = (): string[] => [...registry.keys()];

export function objectiveFor(model: Detector, o: ObjectiveOptions): Objective {
  const make = registry.get(model.config.head)?.make;
  if (!make)
    throw new Error(
      `a model with head '${model.config.head}' has no detection output to train (trainable heads: ${trainableHeads().join(', ')})`,
    );
  return make(model, o);
}
