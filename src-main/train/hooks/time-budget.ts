/**
 * Ultralytics' `time`: after each epoch the epoch count is refitted to the wall-clock budget from the mean epoch
 * time so far (validation included), rounded up so the budget is used, and the LR schedule and close-mosaic
 * follow the new count; once the budget is spent, training stops after the current step and that epoch is the
 * last (validated and checkpointed). Rounding down instead left up to an epoch of the budget unused, which in a
 * sweep under one budget penalised the models with long epochs.
 */
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class TimeBudgetHook implements TrainerHook {
  constructor(private readonly seconds: number) {}

  private spent(t: Trainer): number {
    return (Date.now() - t.startedAt) / 1000;
  }

  /** Seconds of the budget not yet spent (negative once it is). */
  secondsLeft(t: Trainer): number {
    return this.seconds - this.spent(t);
  }

  afterStep(t: Trainer): void {
    if (t.stop || this.spent(t) < this.seconds) return;
    t.stop = 'time';
    t.setEpochs(t.epoch + 1); // this epoch, cut short, is the last: validation and checkpoint treat it so
  }

  afterEpoch(t: Trainer): void {
    if (t.stop === 'time') return;
    const spent = this.spent(t);
    const perEpoch = spent / (t.epoch + 1 - t.startEpoch);
    const fitted = t.epoch + 1 + Math.ceil((this.seconds - spent) / perEpoch);
    t.setEpochs(Math.max(t.epoch + 1, fitted));
  }
}
