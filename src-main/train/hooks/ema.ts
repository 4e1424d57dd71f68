/** EMA of the weights (Ultralytics' ramp), updated after every step; validation and export use its weights. */
import { EMA } from '../../engine/optim.js';
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class EmaHook implements TrainerHook {
  beforeTrain(t: Trainer): void {
    t.ema = new EMA(t.model, t.settings.optimizer.emaDecay, t.settings.optimizer.emaTau);
  }

  afterStep(t: Trainer): void {
    t.ema!.update();
  }
}
