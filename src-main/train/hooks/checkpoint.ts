/**
 * Checkpoints: `last` after every epoch and `best` when the epoch validated best, written atomically with the
 * optimizer, EMA and loop state (epoch, best fitness, history); on resume, `last` is restored before the first
 * epoch, so training continues exactly as an uninterrupted run would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { captureTraining, loadCheckpoint, restoreTraining, saveCheckpoint } from '../../engine/checkpoint.js';
import { removeStaleTemps } from '../../util/files.js';
import type { EpochInfo, Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class CheckpointHook implements TrainerHook {
  readonly last: string;
  readonly best: string;

  constructor(
    outDir: string,
    private readonly resume: boolean,
  ) {
    this.last = path.join(outDir, 'last.safetensors');
    this.best = path.join(outDir, 'best.safetensors');
  }

  beforeTrain(t: Trainer): void {
    // What a write killed midway left behind.
    removeStaleTemps(this.last);
    removeStaleTemps(this.best);
    if (!this.resume || !fs.existsSync(this.last)) return;
    const extra = restoreTraining(loadCheckpoint(this.last), {
      model: t.model,
      optimizer: t.optimizer,
      ...(t.ema ? { ema: t.ema } : {}),
    });
    t.startEpoch = (extra.epoch as number) + 1;
    t.bestFitness = extra.bestFitness as number;
    t.bestEpoch = extra.bestEpoch as number;
    t.history.push(...((extra.history as EpochInfo[]) ?? []));
  }

  afterEpoch(t: Trainer): void {
    const ck = captureTraining({
      model: t.model,
      optimizer: t.optimizer,
      ...(t.ema ? { ema: t.ema } : {}),
      extra: {
        epoch: t.epoch,
        bestFitness: t.bestFitness,
        bestEpoch: t.bestEpoch,
        history: t.history,
        config: t.settings.model,
        imgsz: t.settings.data.imgsz,
      },
    });
    // `best` first: killed between the two writes, `last` is still the epoch before, so the resumed run trains this
    // epoch again (bit-identically) and writes both; the other order could leave a `last` that says this epoch
    // was best while `best` holds an older one.
    if (t.isBest) saveCheckpoint(this.best, ck);
    saveCheckpoint(this.last, ck);
  }
}
