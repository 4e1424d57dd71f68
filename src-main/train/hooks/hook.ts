/**
 * The trainer's extension points, detectron2's HookBase: the loop (trainer.ts) is fixed, and everything optional
 * is a hook called at these moments, in the order the hooks are listed. Hooks read and change the trainer's
 * state: the LR schedule sets the optimizer's rates before a step, a distillation hook adds graph inputs for the
 * batch, EMA updates after a step, validation, records and checkpoints run after an epoch, and a hook stops
 * training by setting `trainer.stop`.
 */
import type { Feed } from '../../runtime/session.js';
import type { Batch } from '../loader.js';
import type { Trainer } from '../trainer.js';

/** One step's outcome, after the optimizer update. */
export interface StepOutcome {
  /** The step's loss on its terms' scale (per image where the graph scales it by the batch). */
  loss: number;
  terms: Record<string, number>;
  /** Images in the batch. */
  images: number;
  /** Milliseconds of the graph run and update. */
  ms: number;
}

export interface TrainerHook {
  /** Once, after the model and optimizer exist and before the first epoch: restore state, prepare. */
  beforeTrain?(t: Trainer): void | Promise<void>;
  beforeEpoch?(t: Trainer): void | Promise<void>;
  /** Before a batch's feeds are made: change the batch (a distillation hook adds teacher boxes to its targets). */
  beforeFeeds?(t: Trainer, batch: Batch): void | Promise<void>;
  /** Before each step: set rates, or add inputs of the step's graph for this batch to `feeds`. */
  beforeStep?(t: Trainer, batch: Batch, feeds: Record<string, Feed>): void | Promise<void>;
  /** After each step's optimizer update. */
  afterStep?(t: Trainer, step: StepOutcome): void | Promise<void>;
  /** After an epoch's last step (not when training was cancelled mid-epoch). */
  afterEpoch?(t: Trainer): void | Promise<void>;
  /** Once, when the loop ends for any reason but an error. */
  afterTrain?(t: Trainer): void | Promise<void>;
}
