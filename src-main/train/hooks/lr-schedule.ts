/**
 * Ultralytics' learning-rate schedule as a hook: per-iteration warmup (biases from warmup_bias_lr, the rest from
 * 0; momentum from warmup_momentum), then a linear or cosine epoch factor on lr0 down to lr0 * lrf. The epoch
 * count it decays over follows `trainer.epochs`, which a time budget may refit.
 */
import { scheduleAt, type ScheduleOptions } from '../../engine/schedule.js';
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class LrScheduleHook implements TrainerHook {
  private sched!: ScheduleOptions;
  private groups: string[] = [];

  beforeTrain(t: Trainer): void {
    const o = t.settings.optimizer;
    this.sched = {
      kind: o.schedule,
      lr0: t.lr0,
      lrf: o.lrf,
      epochs: t.epochs,
      warmupIters: Math.max(Math.round(o.warmupEpochs * t.stepsPerEpoch), o.warmupMinIters),
      warmupBiasLr: t.warmupBiasLr,
      warmupMomentum: o.warmupMomentum,
      momentum: t.momentum,
    };
    this.groups = t.optimizer.groups.map((g) => g.name);
  }

  beforeStep(t: Trainer): void {
    this.sched.epochs = t.epochs;
    const s = scheduleAt(this.sched, t.iteration, t.epoch, this.groups);
    for (const g of t.optimizer.groups) {
      g.lr = s.lr[g.name]!;
      if (t.optimizer.kind === 'sgd') g.momentum = s.momentum;
    }
  }
}
