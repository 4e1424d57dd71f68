/**
 * The epoch's record: mean loss terms, whatever the validation put in, the LR, images/s and seconds (validation
 * included), appended to the trainer's history (which the checkpoint keeps, so a resumed run has all of it).
 */
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class EpochRecordHook implements TrainerHook {
  afterEpoch(t: Trainer): void {
    const steps = Math.max(1, t.stepInEpoch);
    const losses = Object.fromEntries(Object.entries(t.termSums).map(([k, v]) => [`loss.${k}`, v / steps]));
    t.history.push({
      epoch: t.epoch,
      metrics: {
        ...losses,
        ...t.epochMetrics,
        lr: t.optimizer.groups[0]!.lr,
        imagesPerSecond: (t.stepInEpoch * t.settings.data.batch) / Math.max(1e-3, t.epochTrainSeconds),
        seconds: (Date.now() - t.epochStartedAt) / 1000,
      },
      best: t.isBest,
    });
  }
}
