/**
 * Plain callbacks (a job's progress, its per-epoch records, cancel) as a hook: step and epoch summaries with the
 * rate and the time left, and a stop request checked after each step.
 */
import type { EpochInfo, Trainer } from '../trainer.js';
import type { StepOutcome, TrainerHook } from './hook.js';

export interface StepInfo {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  terms: Record<string, number>;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface TrainCallbacks {
  beforeEpoch?(epoch: number): void | Promise<void>;
  afterStep?(info: StepInfo): void | Promise<void>;
  afterEpoch?(info: EpochInfo): void | Promise<void>;
  /**
   * On resume, the epochs the checkpoint holds: a kill between a checkpoint write and the epoch's record leaves
   * the record behind the checkpoint, and this brings it level.
   */
  restored?(history: readonly EpochInfo[]): void | Promise<void>;
  onBadImage?(file: string, problem: string): void;
  /** A line for the run's log (how the data is loaded, ...). */
  onLog?(line: string): void;
  /** Return true to stop after the current step (cancel); the run can resume from `last`. */
  shouldStop?(): boolean;
}

export class CallbacksHook implements TrainerHook {
  constructor(private readonly cb: TrainCallbacks) {}

  async beforeTrain(t: Trainer): Promise<void> {
    if (t.history.length) await this.cb.restored?.(t.history);
  }

  async beforeEpoch(t: Trainer): Promise<void> {
    await this.cb.beforeEpoch?.(t.epoch);
  }

  async afterStep(t: Trainer, s: StepOutcome): Promise<void> {
    const elapsed = (Date.now() - t.startedAt) / 1000;
    const total = (t.epochs - t.startEpoch) * t.stepsPerEpoch;
    await this.cb.afterStep?.({
      epoch: t.epoch,
      step: t.stepInEpoch,
      stepsPerEpoch: t.stepsPerEpoch,
      loss: s.loss,
      terms: s.terms,
      lr: t.optimizer.groups[0]!.lr,
      imagesPerSecond: (s.images * 1000) / Math.max(1, s.ms),
      etaSeconds: (elapsed / t.stepsRun) * Math.max(0, total - t.stepsRun),
    });
    if (this.cb.shouldStop?.()) t.stop = 'cancelled';
  }

  async afterEpoch(t: Trainer): Promise<void> {
    await this.cb.afterEpoch?.(t.history.at(-1)!);
  }
}
