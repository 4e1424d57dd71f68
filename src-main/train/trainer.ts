/**
 * The training loop, fixed, in the style of detectron2 / SimDeblur: everything optional is a hook (hooks/) called
 * before/after training, each epoch and each step. A step runs one ONNX graph (forward + the head's loss +
 * backward) on onnxruntime, then gradient clipping and the optimizer update run in TypeScript. The default hooks
 * are the LR schedule, EMA, the time budget, validation, the epoch record, checkpoints (with exact resume) and
 * patience; a job adds its progress and records, and later capabilities add theirs, without touching the loop.
 */
import fs from 'node:fs';
import { seedInit } from '../engine/nn.js';
import { AdamW, clipGradNorm, paramGroups, SGD, type EMA, type Optimizer } from '../engine/optim.js';
import { TrainStep } from '../engine/train-step.js';
import type { EvalImage } from '../eval/ground-truth.js';
import type { Source } from '../inference/letterbox.js';
import type { Detector } from '../models/detector.js';
import { buildDetector } from '../models/zoo.js';
import { Runner, type Feed } from '../runtime/session.js';
import type { RunSettings } from '../settings/run-settings.js';
import { Rng } from '../util/random.js';
import { CallbacksHook, type TrainCallbacks } from './hooks/callbacks.js';
import { CheckpointHook } from './hooks/checkpoint.js';
import { EmaHook } from './hooks/ema.js';
import { EpochRecordHook } from './hooks/epoch-record.js';
import type { StepOutcome, TrainerHook } from './hooks/hook.js';
import { LrScheduleHook } from './hooks/lr-schedule.js';
import { PatienceHook } from './hooks/patience.js';
import { TimeBudgetHook } from './hooks/time-budget.js';
import { ValidationHook } from './hooks/validation.js';
import { objectiveFor, type Objective } from './objectives/index.js';
import { adaptiveLoss } from './adaptive-loss.js';
import type { DistillGraphSpec } from './distill/distiller.js';
import { createLoader, type BatchSource } from './threaded-loader.js';
import { cacheDecision } from './image-cache.js';

export type { StepInfo, TrainCallbacks } from './hooks/callbacks.js';
export { fitness } from './hooks/validation.js';

export interface TrainOptions {
  /** Resolved settings (resolveRunSettings), the model's class count set. */
  settings: RunSettings;
  train: Source[];
  /** The validation images and their truth (eval/ground-truth.ts). */
  val: EvalImage[];
  outDir: string;
  resume?: boolean;
  /** Stop after this many steps in total (tests, benchmarks). */
  maxSteps?: number;
  /** onnxruntime intra-op threads (0 or unset: all cores). */
  threads?: number;
  /** Loads starting weights into the freshly built model (train/start-weights.ts); not called on resume. */
  init?: (model: Detector) => void;
  /** A distillation run's graph inputs; its hook (train/distill/hook.ts) goes in `fit`'s hooks. */
  distill?: DistillGraphSpec;
  /** Batches from elsewhere instead of the data loader (benchmarks: the step's limit on pre-made batches). */
  batches?: BatchSource;
}

/** Ultralytics' nominal batch size (nbs), which its optimizer=auto rule counts steps in. */
const NOMINAL_BATCH = 64;

export interface EpochInfo {
  epoch: number;
  metrics: Record<string, number>;
  best: boolean;
}

export interface TrainResult {
  epochs: number;
  bestFitness: number;
  last: string;
  best: string;
  stoppedEarly: boolean;
  cancelled: boolean;
  history: EpochInfo[];
}

export class Trainer {
  readonly settings: RunSettings;
  readonly model: Detector;
  readonly runner: Runner;
  readonly objective: Objective;
  optimizer!: Optimizer;
  /** Set by the EMA hook; validation and checkpoints use it when present. */
  ema: EMA | null = null;
  /** The learning rate, momentum and warmup bias lr the run uses (Ultralytics' optimizer=auto may choose them). */
  lr0 = 0;
  momentum = 0;
  warmupBiasLr = 0;
  /** Parameters frozen by `weights.freeze` (and the DFL's fixed weights). */
  readonly frozen: number;

  // ---- loop state, read and written by hooks ----
  epoch = 0;
  startEpoch = 0;
  /** The epoch count (a time budget refits it). */
  epochs: number;
  stepsPerEpoch = 0;
  /** Steps done in the current epoch (during afterStep: the index of the step just done). */
  stepInEpoch = 0;
  /** Global step index of the current step (epoch * stepsPerEpoch + stepInEpoch). */
  iteration = 0;
  /** Steps run by this process. */
  stepsRun = 0;
  startedAt = 0;
  epochStartedAt = 0;
  /** Seconds of the epoch's steps, validation excluded. */
  epochTrainSeconds = 0;
  termSums: Record<string, number> = {};
  /** What validation found this epoch (empty when it did not validate). */
  epochMetrics: Record<string, number> = {};
  isBest = false;
  bestFitness = -1;
  bestEpoch = -1;
  history: EpochInfo[] = [];
  /**
   * Set by a hook (or the loop) to end training after this step. A cancelled epoch is dropped (the last complete
   * one is the resume point); any other stop closes the epoch it happened in (validation, record, checkpoint).
   */
  stop: 'cancelled' | 'patience' | 'maxSteps' | 'time' | null = null;
  /** Images that could not be decoded: reported once each with the reason, skipped, never fatal. */
  readonly badImages: { file: string; problem: string }[] = [];

  private readonly step: TrainStep;
  private loader!: BatchSource;
  private readonly checkpoints: CheckpointHook;
  private readonly timeBudget: TimeBudgetHook | undefined;

  constructor(private readonly o: TrainOptions) {
    this.settings = o.settings;
    this.epochs = o.settings.budget.epochs;
    seedInit(o.settings.seed);
    this.model = buildDetector(o.settings.model);
    if (!o.resume) o.init?.(this.model);
    this.frozen = this.model.freezeLayers(o.settings.weights.freeze);
    const size = o.settings.data.imgsz;
    this.objective = objectiveFor(this.model, {
      imgsz: size,
      gains: o.settings.loss.gains,
      autoanchor: o.settings.loss.autoanchor,
      ...(o.distill ? { distill: o.distill } : {}),
    });
    const adaptive = o.settings.loss.weighting === 'adaptive';
    // Under adaptive weights a term's target is its gain: the distillation weight scales the kd_* targets, as it
    // scales the kd terms under fixed gains.
    const kdWeight = o.distill ? o.settings.distill.weight : 1;
    const targets = Object.fromEntries(
      Object.entries({ ...this.objective.adaptive.targets, ...o.settings.loss.targets }).map(([k, v]) => [
        k,
        k.startsWith('kd_') && !(k in o.settings.loss.targets) ? v * kdWeight : v,
      ]),
    );
    this.runner = new Runner({ device: o.settings.device, ...(o.threads ? { intraOpThreads: o.threads } : {}) });
    this.step = new TrainStep(this.runner, this.model, (g, m, batch, dims) => {
      const r = this.objective.loss(g, m as Detector, g.input('images', [batch, 3, size, size]), batch, dims);
      if (!adaptive) return r;
      const unknown = Object.keys(o.settings.loss.targets).filter((k) => !(k in r.terms));
      if (unknown.length)
        throw new Error(
          `loss.targets.${unknown[0]}: this run has no such loss term; its terms are ${Object.keys(r.terms).join(', ')}`,
        );
      return { loss: adaptiveLoss(r.terms, targets, this.objective.adaptive.perImage ? batch : 1), terms: r.terms };
    });
    this.checkpoints = new CheckpointHook(o.outDir, !!o.resume);
    const minutes = o.settings.budget.minutes;
    this.timeBudget = minutes === undefined ? undefined : new TimeBudgetHook(minutes * 60);
  }

  /** The hooks every run has, in order; extra hooks go after them, patience last. */
  private defaultHooks(extra: TrainerHook[], log: (line: string) => void): TrainerHook[] {
    const b = this.settings.budget;
    return [
      // The head's own (autoanchor) first: before EMA copies the model and before the first step's graph.
      ...(this.objective.hooks?.({ train: this.o.train, resume: !!this.o.resume, log }) ?? []),
      new LrScheduleHook(),
      new EmaHook(),
      ...(this.timeBudget ? [this.timeBudget] : []),
      new ValidationHook(this.o.val, b.valEvery),
      new EpochRecordHook(),
      this.checkpoints,
      ...extra,
      new PatienceHook(b.patience),
    ];
  }

  /** The weights validation and export use: EMA's when training keeps one. */
  evalWeights(): Map<string, Float32Array> {
    if (this.ema) return this.ema.shadow;
    return new Map([...this.model.namedTensors()].map(([n, p]) => [n, p.data]));
  }

  /** Seconds left of the run's time budget (negative once spent), or undefined without one. */
  budgetSecondsLeft(): number | undefined {
    return this.timeBudget?.secondsLeft(this);
  }

  /** Changes the epoch count (the schedule and close-mosaic follow it). */
  setEpochs(n: number): void {
    this.epochs = n;
    this.loader.epochs = n;
  }

  async fit(callbacks: TrainCallbacks = {}, hooks: TrainerHook[] = []): Promise<TrainResult> {
    this.loader = this.o.batches ?? this.createLoader(callbacks);
    try {
      return await this.loop(
        this.defaultHooks([...hooks, new CallbacksHook(callbacks)], (line) => callbacks.onLog?.(line)),
      );
    } finally {
      await this.loader.close();
      await this.runner.dispose();
    }
  }

  private createLoader(callbacks: TrainCallbacks): BatchSource {
    const s = this.settings;
    const cache = cacheDecision(s.data.cache, this.o.train, s.data.imgsz);
    callbacks.onLog?.(cache.reason);
    return createLoader(this.o.train, {
      cache: cache.cache,
      imgsz: s.data.imgsz,
      batch: s.data.batch,
      seed: s.seed,
      epochs: this.epochs,
      closeMosaic: s.augment.closeMosaic,
      hyp: {
        hsvH: s.augment.hsvH,
        hsvS: s.augment.hsvS,
        hsvV: s.augment.hsvV,
        fliplr: s.augment.fliplr,
        scale: s.augment.scale,
        translate: s.augment.translate,
        mosaic: s.augment.mosaic,
      },
      onBadImage: (file, problem) => {
        this.badImages.push({ file, problem });
        callbacks.onBadImage?.(file, problem);
      },
    });
  }

  private setupOptimizer(): void {
    const o = this.settings.optimizer;
    let kind = o.name;
    let lr = o.lr0;
    let momentum = o.momentum;
    this.warmupBiasLr = o.warmupBiasLr;
    if (kind === 'auto') {
      // Ultralytics' rule, as it counts: optimizer steps at its nominal batch of 64 over the run. SGD (lr 0.01,
      // momentum 0.9) for long runs, else AdamW with a learning rate fitted to the class count; either way the
      // biases warm up from 0, not from warmup_bias_lr (which a pretrained start's biases would not survive).
      const iterations =
        Math.ceil(this.o.train.length / Math.max(this.settings.data.batch, NOMINAL_BATCH)) * this.epochs;
      momentum = 0.9;
      if (iterations > 10000) {
        kind = 'SGD';
        lr = 0.01;
      } else {
        kind = 'AdamW';
        lr = Math.round(((0.002 * 5) / (4 + this.settings.model.nc)) * 1e6) / 1e6;
      }
      this.warmupBiasLr = 0;
    }
    const groups = paramGroups(this.model, { lr, weightDecay: o.weightDecay, momentum });
    this.optimizer = kind === 'SGD' ? new SGD(groups, true) : new AdamW(groups);
    this.lr0 = lr;
    this.momentum = momentum;
  }

  private async each(hooks: TrainerHook[], call: (h: TrainerHook) => void | Promise<void>): Promise<void> {
    for (const h of hooks) await call(h);
  }

  private async loop(hooks: TrainerHook[]): Promise<TrainResult> {
    fs.mkdirSync(this.o.outDir, { recursive: true });
    this.setupOptimizer();
    this.stepsPerEpoch = this.loader.batchesPerEpoch;
    await this.each(hooks, (h) => h.beforeTrain?.(this));
    const size = this.settings.data.imgsz;
    this.startedAt = Date.now();
    for (this.epoch = this.startEpoch; this.epoch < this.epochs; this.epoch++) {
      await this.each(hooks, (h) => h.beforeEpoch?.(this));
      this.stepInEpoch = 0;
      this.termSums = {};
      this.epochStartedAt = Date.now();
      for await (const batch of this.loader.epoch(this.epoch)) {
        this.iteration = this.epoch * this.stepsPerEpoch + this.stepInEpoch;
        const n = batch.files.length;
        await this.each(hooks, (h) => h.beforeFeeds?.(this, batch));
        const feeds: Record<string, Feed> = {
          images: { dtype: 'float32', shape: [n, 3, size, size], data: batch.images },
          ...this.objective.feeds(batch),
        };
        await this.each(hooks, (h) => h.beforeStep?.(this, batch, feeds));
        const t0 = Date.now();
        const dropRng = new Rng('droppath', this.settings.seed, this.iteration);
        const r = await this.step.run(n, feeds, () => dropRng.float(), this.objective.dims?.(batch));
        if (!Number.isFinite(r.loss))
          throw new Error(`loss became ${r.loss} at epoch ${this.epoch + 1}, step ${this.stepInEpoch + 1}; lower lr0`);
        for (const [k, v] of Object.entries(r.terms)) this.termSums[k] = (this.termSums[k] ?? 0) + v;
        clipGradNorm(r.grads, this.settings.optimizer.clipNorm);
        this.optimizer.update(r.grads);
        this.stepsRun++;
        // The headline loss on its terms' scale: per image where the graph's loss is scaled by the batch
        // (Ultralytics' yolo loss, whose gradients need it), which under fixed gains is their sum; under adaptive
        // weights the graph's loss is constant by design, so their sum is what is shown.
        const shown =
          this.settings.loss.weighting === 'adaptive'
            ? Object.values(r.terms).reduce((a, b) => a + b, 0)
            : this.objective.adaptive.perImage
              ? r.loss / n
              : r.loss;
        const outcome: StepOutcome = { loss: shown, terms: r.terms, images: n, ms: Date.now() - t0 };
        await this.each(hooks, (h) => h.afterStep?.(this, outcome));
        this.stepInEpoch++;
        if (this.o.maxSteps !== undefined && this.stepsRun >= this.o.maxSteps && !this.stop) this.stop = 'maxSteps';
        if (this.stop) break;
      }
      if (this.stop === 'cancelled') break; // the last completed epoch's checkpoint stays the resume point
      this.epochTrainSeconds = (Date.now() - this.epochStartedAt) / 1000;
      await this.each(hooks, (h) => h.afterEpoch?.(this));
      if (this.stop) break;
    }
    await this.each(hooks, (h) => h.afterTrain?.(this));
    return {
      epochs: this.history.length,
      bestFitness: this.bestFitness,
      last: this.checkpoints.last,
      best: this.checkpoints.best,
      stoppedEarly: this.stop === 'patience',
      cancelled: this.stop === 'cancelled',
      history: this.history,
    };
  }
}
