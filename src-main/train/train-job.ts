/**
 * Training as a project job: a run record (settings, status, per-epoch metrics, artifacts) in the project's
 * store, the trainer fed from the project's labeled train split and validated on its val split, progress
 * events with loss terms, images/s and ETA, cancel that leaves a resumable run, and resume by run id.
 */
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { splitTruth } from '../eval/ground-truth.js';
import { modelFigures } from '../models/flops.js';
import { resolveRunSettings, type RunSettings, type RunSettingsInput } from '../settings/run-settings.js';
import type { ProjectStore } from '../store/project.js';
import type { JobContext } from '../util/job-context.js';
import { projectSources } from './loader.js';
import { assertNotTrainedElsewhere, thisProcess } from './run-owner.js';
import { prepareStart } from './start-weights.js';
import { distillImages, setupDistillation } from './distill/setup.js';
import { formatWeightReport, summarizeWeightReport } from '../models/weights.js';
import { Trainer, type EpochInfo } from './trainer.js';
import { evaluateRun, type RunEvaluation } from '../eval/run-evaluation.js';
import { formatDuration } from '../util/duration.js';

export interface TrainRequest extends RunSettingsInput {
  /** Resume this run with its own stored settings (the rest of the request is ignored). */
  resume?: number;
  name?: string;
  /** The sweep cell the run is (kept in its summary, through resumes). */
  experiment?: RunExperiment;
}

export interface RunExperiment {
  name: string;
  key: string;
}

/**
 * One line per epoch, as Ultralytics logs them: the epoch, its mean loss terms, what validation found, the
 * training speed and the time left at the mean epoch time so far, at most `secondsLeft` (a time budget's).
 */
export function epochLine(e: EpochInfo, epochs: number, history: readonly EpochInfo[], secondsLeft = Infinity): string {
  const m = e.metrics;
  const terms = Object.entries(m)
    .filter(([k]) => k.startsWith('loss.'))
    .map(([k, v]) => `${k.slice(5)} ${v.toFixed(3)}`)
    .join(' ');
  const val =
    m.mAP50 !== undefined ? `  val mAP50 ${m.mAP50.toFixed(3)} mAP50-95 ${(m['mAP50-95'] ?? 0).toFixed(3)}` : '';
  const mean = history.reduce((t, h) => t + (h.metrics.seconds ?? 0), 0) / Math.max(1, history.length);
  const left = Math.max(0, Math.min(secondsLeft, (epochs - e.epoch - 1) * mean));
  return (
    `epoch ${e.epoch + 1}/${epochs}  ${terms}${val}  ${(m.imagesPerSecond ?? 0).toFixed(1)} img/s  ` +
    `${(m.seconds ?? 0).toFixed(1)} s  ETA ${formatDuration(left)}${e.best ? '  (best)' : ''}`
  );
}

/** The request's settings, without what names the run. */
function withoutRunFields(req: TrainRequest): RunSettingsInput {
  const { resume: _resume, name: _name, experiment: _experiment, ...settings } = req;
  return settings;
}

export async function runTraining(
  store: ProjectStore,
  req: TrainRequest,
  ctx: JobContext,
  /** Told the run's id as soon as it exists (a worker thread reports it, in case the worker dies). */
  onRun?: (runId: number) => void,
): Promise<{ runId: number; epochs: number; best: Record<string, number>; val: RunEvaluation | null }> {
  const existing = req.resume !== undefined ? store.runs.get(req.resume) : null;
  if (existing) assertNotTrainedElsewhere(existing);
  const requested: RunSettings = existing
    ? existing.settings
    : resolveRunSettings({ ...withoutRunFields(req), model: { ...req.model, nc: store.classes.list().length } });
  // A new run's starting weights are read and checked before the run exists: a wrong file starts nothing.
  const { settings, start } = existing
    ? { settings: requested, start: null }
    : prepareStart(store, requested, req.model as Record<string, unknown> | undefined);
  if (start) {
    ctx.log?.(formatWeightReport(start.report));
    const taken = Object.entries(start.adopted).map(([k, v]) => `${k} ${String(v)}`);
    if (taken.length) ctx.log?.(`  the model follows the weights: ${taken.join(', ')}`);
  }
  const splits = settings.data.trainSplits;
  const { sources: train } = projectSources(store, {
    includePending: settings.data.includePending,
    pendingWeight: settings.data.pendingWeight,
    unlabeled: distillImages(settings),
    splits,
  });
  const named = `the ${splits.join(' and ')} split${splits.length > 1 ? 's' : ''}`;
  if (!train.length)
    throw new StarlingError(
      'INVALID_INPUT',
      distillImages(settings) === 'only'
        ? `${named} ${splits.length > 1 ? 'have' : 'has'} no images without labels to distill on`
        : `the project has no labeled images in ${named}`,
    );
  if (splits.includes(settings.data.valSplit))
    ctx.log?.(
      `note: this run trains on the ${settings.data.valSplit} split it validates on; its validation figures are not held out`,
    );
  if (splits.includes('test') && settings.data.valSplit !== 'test')
    ctx.log?.('note: this run trains on the test split; its test figures (a sweep table too) are not held out');
  // Teachers are prepared (and a wrong one refused) before the run exists.
  const distill = await setupDistillation(
    store,
    settings,
    train,
    ctx,
    (existing?.summary?.distill as { teachers?: { spec: string; sha256: string }[] } | undefined)?.teachers,
  );
  const m = settings.model;
  const run = existing ?? store.runs.create(req.name ?? `${m.backbone}-${m.head}-${m.scale}`, settings);
  // Where the weights came from stays in the run's summary through every update (resume keeps the record).
  const origin = start
    ? {
        weights: {
          from: start.from,
          ...(start.run !== undefined ? { run: start.run } : {}),
          adopted: start.adopted,
          ...summarizeWeightReport(start.report),
        },
      }
    : existing?.summary?.weights
      ? { weights: existing.summary.weights }
      : {};
  if (distill) Object.assign(origin, { distill: distill.record });
  const experiment = req.experiment ?? existing?.summary?.experiment;
  if (experiment) Object.assign(origin, { experiment });
  const val = splitTruth(store, settings.data.valSplit).images;
  onRun?.(run.id);
  const outDir = path.join(store.root, 'runs', String(run.id));
  store.runs.update(run.id, {
    status: 'running',
    summary: { owner: thisProcess(), ...origin }, // so a run whose process is killed can be found and resumed
    artifacts: {
      dir: outDir,
      last: path.join(outDir, 'last.safetensors'),
      best: path.join(outDir, 'best.safetensors'),
    },
  });
  try {
    const trainer = new Trainer({
      settings,
      train,
      val,
      outDir,
      resume: req.resume !== undefined,
      ...(start ? { init: start.apply } : {}),
      ...(distill ? { distill: distill.spec } : {}),
    });
    // Model size for the leaderboard, counted on the model being trained (before any evaluation exists).
    const size = settings.data.imgsz;
    const figures = modelFigures(
      trainer.model,
      size,
      (g) => void trainer.model.forward(g.input('images', [1, 3, size, size])),
    );
    const result = await trainer.fit(
      {
        afterStep: (s) => {
          const done = s.epoch * s.stepsPerEpoch + s.step + 1;
          const terms = Object.entries(s.terms)
            .map(([k, v]) => `${k} ${v.toFixed(3)}`)
            .join(' ');
          ctx.progress(
            done,
            trainer.epochs * s.stepsPerEpoch,
            `epoch ${s.epoch + 1}/${trainer.epochs} loss ${s.loss.toFixed(3)} (${terms}) ${s.imagesPerSecond.toFixed(1)} img/s`,
            trainer.budgetSecondsLeft(), // a time budget ends the run whatever epoch count the rate assumes
          );
        },
        restored: (history) => {
          for (const e of history) store.runs.putEpoch(run.id, e.epoch, e.metrics);
        },
        afterEpoch: (e) => {
          store.runs.putEpoch(run.id, e.epoch, e.metrics);
          ctx.log?.(epochLine(e, trainer.epochs, trainer.history, trainer.budgetSecondsLeft()));
        },
        onBadImage: (file, problem) => console.warn(`starling: skipped an unreadable image: ${problem || file}`),
        onLog: (line) => ctx.log?.(line),
        shouldStop: () => ctx.signal.aborted,
      },
      distill ? [distill.hook] : [],
    );
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
        trainable: figures.trainable,
        gflops: figures.gflops,
        ...origin,
      },
    });
    // A finished run is evaluated once on val, so the leaderboard and the detection review have it at once.
    let evaluation: RunEvaluation | null = null;
    if (!result.cancelled && val.length) {
      ctx.log?.('evaluating the best checkpoint on val (for the leaderboard) ...');
      try {
        evaluation = await evaluateRun(store, run.id, 'val');
      } catch (e) {
        ctx.log?.(`  not evaluated: ${(e as Error).message}`);
      }
    }
    return { runId: run.id, epochs: result.epochs, best: bestEpoch?.metrics ?? {}, val: evaluation };
  } catch (e) {
    store.runs.update(run.id, { status: 'failed', summary: { error: (e as Error).message, ...origin } });
    throw e;
  }
}
