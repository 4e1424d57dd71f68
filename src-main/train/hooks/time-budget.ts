/**
 * Ultralytics' `time`: after each epoch the epoch count is refitted to the wall-clock budget from the mean epoch
 * time so far (validation included), so the LR schedule and close-mosaic follow the new count.
 */
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class TimeBudgetHook implements TrainerHook {
  constructor(private readonly seconds: number) {}

  afterEpoch(t: Trainer): void {
    const spent = (Date.now() - t.startedAt) / 1000;
    const perEpoch = spent / (t.epoch + 1 - t.startEpoch);
    const fitted = t.epoch + 1 + Math.floor((this.seconds - spent) / perEpoch);
    t.setEpochs(Math.max(t.epoch + 1, fitted));
  }
}
