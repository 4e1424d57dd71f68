/** Early stopping: training ends after `patience` epochs without a better validation (Ultralytics' patience). */
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class PatienceHook implements TrainerHook {
  constructor(private readonly patience: number) {}

  afterEpoch(t: Trainer): void {
    if (t.bestEpoch >= 0 && t.epoch - t.bestEpoch >= this.patience) t.stop = 'patience';
  }
}
