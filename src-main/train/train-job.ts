/**
 * Training as a project job: a run record (config, status, per-epoch metrics, artifacts) in the project's
 * store, the trainer fed from the project's labeled train split and validated on its val split, progress
 * events with loss terms, images/s and ETA, cancel that leaves a resumable run, and resume by run id.
 */
import path from 'node:path';
import { thisProcess } from './run-owner.js';
import type { JobContext } from '../util/job-context.js';
import { StarlingError } from '../errors.js';
import { parseDetectorConfig } from '../models/config.js';
import { modelFigures } from '../models/flops.js';
import type { ProjectStore } from '../store/project.js';
import type { Device } from '../runtime/session.js';
import { projectSources } from './loader.js';
import { Trainer } from './trainer.js';

export interface TrainRequest {
  config: Record<string, unknown>;
  imgsz: number;
  epochs: number;
  batch: number;
  lr0?: number;
  optimizer: 'auto' | 'SGD' | 'AdamW';
  device: Device;
  seed: number;
  patience: number;
  lrSchedule?: 'linear' | 'cosine';
  warmupEpochs?: number;
  warmupMinIters?: number;
  closeMosaic?: number;
  mosaic?: number;
  valEvery?: number;
  timeLimit?: number;
  includePending: boolean;
  resume?: number;
  name?: string;
}

export async function runTraining(
  store: ProjectStore,
  req: TrainRequest,
  ctx: JobContext,
  /** Told the run's id as soon as it exists (a worker thread reports it, in case the worker dies). */
  onRun?: (runId: number) => void,
): Promise<{ runId: number; epochs: number; best: Record<string, number> }> {
  const { sources: train, classes } = projectSources(store, { split: 'train', includePending: req.includePending });
  const { sources: val } = projectSources(store, { split: 'val' });
  let run;
  let settings: TrainRequest;
  if (req.resume !== undefined) {
    run = store.runs.get(req.resume);
    settings = { ...(run.config as unknown as TrainRequest), resume: req.resume };
  } else {
    const config = parseDetectorConfig({ ...req.config, nc: classes.length });
    if (config.head === 'none')
      throw new StarlingError('INVALID_INPUT', "a model with head 'none' has no detection output to train");
    if (!train.length) throw new StarlingError('INVALID_INPUT', 'the project has no labeled images in the train split');
    settings = { ...req, config };
    run = store.runs.create(
      req.name ?? `${config.backbone}-${config.head}-${config.scale}`,
      settings as unknown as Record<string, unknown>,
    );
  }
  onRun?.(run.id);
  const outDir = path.join(store.root, 'runs', String(run.id));
  store.runs.update(run.id, {
    status: 'running',
    summary: { owner: thisProcess() }, // so a run whose process is killed can be found and resumed
    artifacts: {
      dir: outDir,
      last: path.join(outDir, 'last.safetensors'),
      best: path.join(outDir, 'best.safetensors'),
    },
  });
  try {
    const trainer = new Trainer({
      config: parseDetectorConfig(settings.config),
      train,
      val,
      imgsz: settings.imgsz,
      epochs: settings.epochs,
      batch: settings.batch,
      ...(settings.lr0 !== undefined ? { lr0: settings.lr0 } : {}),
      optimizer: settings.optimizer,
      device: settings.device,
      seed: settings.seed,
      patience: settings.patience,
      ...pick(settings, [
        'lrSchedule',
        'warmupEpochs',
        'warmupMinIters',
        'closeMosaic',
        'mosaic',
        'valEvery',
        'timeLimit',
      ]),
      outDir,
      resume: req.resume !== undefined,
    });
    // Model size for the leaderboard, counted on the model being trained (before any evaluation exists).
    const figures = modelFigures(
      trainer.model,
      settings.imgsz,
      (g) => void trainer.model.forward(g.input('images', [1, 3, settings.imgsz, settings.imgsz])),
    );
    const result = await trainer.fit({
      afterStep: (s) => {
        const done = s.epoch * s.stepsPerEpoch + s.step + 1;
        const terms = Object.entries(s.terms)
          .map(([k, v]) => `${k} ${v.toFixed(3)}`)
          .join(' ');
        ctx.progress(
          done,
          settings.epochs * s.stepsPerEpoch,
          `epoch ${s.epoch + 1}/${settings.epochs} loss ${s.loss.toFixed(3)} (${terms}) ${s.imagesPerSecond.toFixed(1)} img/s`,
        );
      },
      afterEpoch: (e) => store.runs.putEpoch(run.id, e.epoch, e.metrics),
      onBadImage: (file, problem) => console.warn(`starling: skipped an unreadable image: ${problem || file}`),
      shouldStop: () => ctx.signal.aborted,
    });
    // Only validated epochs have a fitness (validation may run every N epochs).
    const bestEpoch = result.history
      .filter((h) => h.metrics.fitness !== undefined)
      .reduce<(typeof result.history)[number] | undefined>(
        (a, b) => (a === undefined || b.metrics.fitness! > a.metrics.fitness! ? b : a),
        undefined,
      );
    store.runs.update(run.id, {
      status: result.cancelled ? 'cancelled' : 'done',
      summary: {
        epochs: result.epochs,
        stoppedEarly: result.stoppedEarly,
        ...(trainer.badImages.length ? { badImages: trainer.badImages } : {}),
        best: bestEpoch?.metrics ?? {},
        bestEpoch: bestEpoch?.epoch ?? -1,
        parameters: figures.parameters,
        gflops: figures.gflops,
      },
    });
    return { runId: run.id, epochs: result.epochs, best: bestEpoch?.metrics ?? {} };
  } catch (e) {
    store.runs.update(run.id, { status: 'failed', summary: { error: (e as Error).message } });
    throw e;
  }
}

/** The options of `o` named in `keys` that are set. */
function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<Pick<T, K>>;
}
