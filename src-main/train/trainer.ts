/**
 * The training loop (fixed) with hooks for everything optional, in the style of detectron2 / SimDeblur:
 * before/after each epoch and step. Each step runs one ONNX graph (forward + YOLO loss + backward) on
 * onnxruntime; the optimizer, warmup + cosine/linear LR, EMA and gradient clipping run between steps.
 * After each epoch the EMA weights are validated with the COCO evaluator, checkpoints `last` / `best` are
 * written atomically (safetensors, with optimizer, EMA and loop state), and training resumes exactly from `last`.
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { captureTraining, loadCheckpoint, restoreTraining, saveCheckpoint } from '../engine/checkpoint.js';
import { Graph } from '../engine/ir.js';
import { seedInit } from '../engine/nn.js';
import { encodeModel } from '../engine/onnx-writer.js';
import { AdamW, clipGradNorm, EMA, paramGroups, SGD, type Optimizer } from '../engine/optim.js';
import { scheduleAt, type ScheduleOptions } from '../engine/schedule.js';
import { TrainStep } from '../engine/train-step.js';
import type { DetectorConfig } from '../models/config.js';
import type { Detector } from '../models/detector.js';
import { buildDetector } from '../models/zoo.js';
import { Runner, type Device } from '../runtime/session.js';
import { asOutputs, decode } from '../inference/decode.js';
import { Rng } from '../util/random.js';
import { letterbox, unletterbox, type Source } from '../inference/letterbox.js';
import { DEFAULT_HYP } from './augment.js';
import { cocoEvaluate, EVAL_DECODE, type CocoDet, type CocoGt } from '../eval/coco-eval.js';
import { createLoader, type BatchSource } from './threaded-loader.js';
import { objectiveFor, type Objective } from './objectives.js';

export interface TrainOptions {
  config: DetectorConfig;
  train: Source[];
  val: Source[];
  imgsz: number;
  epochs: number;
  batch: number;
  lr0?: number;
  lrf?: number;
  optimizer?: 'auto' | 'SGD' | 'AdamW';
  momentum?: number;
  weightDecay?: number;
  warmupEpochs?: number;
  /** Ultralytics floors warmup at 100 iterations; tiny datasets may want less. */
  warmupMinIters?: number;
  /** LR decay over epochs after warmup (Ultralytics' default is linear; cos_lr gives cosine). */
  lrSchedule?: 'linear' | 'cosine';
  /** Probability of a mosaic sample before close-mosaic (Ultralytics mosaic=1.0). */
  mosaic?: number;
  /** Validate every this many epochs (the last epoch is always validated). */
  valEvery?: number;
  /**
   * Wall-clock budget in seconds (Ultralytics `time`): after the first epoch the epoch count is refitted so
   * training ends within it, and the LR schedule follows the new count.
   */
  timeLimit?: number;
  closeMosaic?: number;
  patience?: number;
  seed?: number;
  device?: Device;
  threads?: number;
  outDir: string;
  resume?: boolean;
  /** Stop after this many steps in total (tests, benchmarks). */
  maxSteps?: number;
}

export interface StepInfo {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  terms: Record<string, number>;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface EpochInfo {
  epoch: number;
  metrics: Record<string, number>;
  best: boolean;
}

export interface Hooks {
  beforeEpoch?(epoch: number): void | Promise<void>;
  afterStep?(info: StepInfo): void | Promise<void>;
  afterEpoch?(info: EpochInfo): void | Promise<void>;
  onBadImage?(file: string, problem: string): void;
  /** Return true to stop after the current step (cancel); the run can resume from `last`. */
  shouldStop?(): boolean;
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

/** Ultralytics' fitness: 0.1 mAP50 + 0.9 mAP50-95. */
export const fitness = (m: Record<string, number>) => 0.1 * (m.mAP50 ?? 0) + 0.9 * (m['mAP50-95'] ?? 0);

export class Trainer {
  readonly model: Detector;
  private readonly runner: Runner;
  private readonly step: TrainStep;
  private loader!: BatchSource;
  private readonly objective: Objective;
  private optimizer!: Optimizer;
  private ema!: EMA;
  private readonly o: Required<Omit<TrainOptions, 'maxSteps' | 'threads' | 'resume' | 'timeLimit'>> &
    Pick<TrainOptions, 'maxSteps' | 'threads' | 'resume' | 'timeLimit'>;

  constructor(opts: TrainOptions) {
    this.o = {
      lr0: 0.01,
      lrf: 0.01,
      optimizer: 'auto',
      momentum: 0.937,
      weightDecay: 0.0005,
      warmupEpochs: 3,
      warmupMinIters: 100,
      lrSchedule: 'linear',
      mosaic: 1,
      valEvery: 1,
      closeMosaic: 10,
      patience: 50,
      seed: 0,
      device: 'auto',
      ...opts,
    };
    seedInit(this.o.seed);
    this.model = buildDetector(this.o.config);
    if (!this.model.head && !this.model.centernet)
      throw new Error(`a model with head '${this.o.config.head}' has nothing to train for detection`);
    this.runner = new Runner({ device: this.o.device, ...(this.o.threads ? { intraOpThreads: this.o.threads } : {}) });
    const size = this.o.imgsz;
    this.objective = objectiveFor(this.model, size);
    this.step = new TrainStep(this.runner, this.model, (g, m, batch) =>
      this.objective.loss(g, m as Detector, g.input('images', [batch, 3, size, size]), batch),
    );
  }

  /** Images that could not be decoded: reported once each with the reason, skipped, never fatal. */
  readonly badImages: { file: string; problem: string }[] = [];

  private openLoader(hooks: Hooks): BatchSource {
    return createLoader(this.o.train, {
      imgsz: this.o.imgsz,
      batch: this.o.batch,
      seed: this.o.seed,
      epochs: this.o.epochs,
      closeMosaic: this.o.closeMosaic,
      hyp: { ...DEFAULT_HYP, mosaic: this.o.mosaic },
      onBadImage: (file, problem) => {
        this.badImages.push({ file, problem });
        hooks.onBadImage?.(file, problem);
      },
    });
  }

  private setupOptimizer(): void {
    let kind = this.o.optimizer;
    let lr = this.o.lr0;
    let momentum = this.o.momentum;
    if (kind === 'auto') {
      // Ultralytics' rule: SGD for long runs, otherwise AdamW with a learning rate fitted to the class count.
      const iterations = this.o.epochs * this.loader.batchesPerEpoch;
      if (iterations > 10000) kind = 'SGD';
      else {
        kind = 'AdamW';
        lr = Math.round(((0.002 * 5) / (4 + this.o.config.nc)) * 1e6) / 1e6;
        momentum = 0.9;
      }
    }
    const groups = paramGroups(this.model, { lr, weightDecay: this.o.weightDecay, momentum });
    this.optimizer = kind === 'SGD' ? new SGD(groups, true) : new AdamW(groups);
    this.o.lr0 = lr;
    this.o.momentum = momentum;
    this.ema = new EMA(this.model);
  }

  async fit(hooks: Hooks = {}): Promise<TrainResult> {
    this.loader = this.openLoader(hooks);
    try {
      return await this.loop(hooks);
    } finally {
      await this.loader.close();
      await this.runner.dispose();
    }
  }

  private async loop(hooks: Hooks): Promise<TrainResult> {
    fs.mkdirSync(this.o.outDir, { recursive: true });
    const last = path.join(this.o.outDir, 'last.safetensors');
    const best = path.join(this.o.outDir, 'best.safetensors');
    this.setupOptimizer();
    let startEpoch = 0;
    let bestFitness = -1;
    let bestEpoch = -1;
    const history: EpochInfo[] = [];
    if (this.o.resume && fs.existsSync(last)) {
      const extra = restoreTraining(loadCheckpoint(last), {
        model: this.model,
        optimizer: this.optimizer,
        ema: this.ema,
      });
      startEpoch = (extra.epoch as number) + 1;
      bestFitness = extra.bestFitness as number;
      bestEpoch = extra.bestEpoch as number;
      history.push(...((extra.history as EpochInfo[]) ?? []));
    }
    const perEpoch = this.loader.batchesPerEpoch;
    const sched: ScheduleOptions = {
      kind: this.o.lrSchedule,
      lr0: this.o.lr0,
      lrf: this.o.lrf,
      epochs: this.o.epochs,
      warmupIters: Math.max(Math.round(this.o.warmupEpochs * perEpoch), this.o.warmupMinIters),
      warmupBiasLr: 0.1,
      warmupMomentum: 0.8,
      momentum: this.o.momentum,
    };
    let steps = 0;
    let cancelled = false;
    let stoppedEarly = false;
    const started = Date.now();
    const groupNames = this.optimizer.groups.map((g) => g.name);
    for (let epoch = startEpoch; epoch < this.o.epochs; epoch++) {
      await hooks.beforeEpoch?.(epoch);
      let b = 0;
      const termSums: Record<string, number> = {};
      const epochStarted = Date.now();
      for await (const batch of this.loader.epoch(epoch)) {
        const iter = epoch * perEpoch + b;
        const s = scheduleAt(sched, iter, epoch, groupNames);
        this.optimizer.groups.forEach((g) => {
          g.lr = s.lr[g.name]!;
          g.momentum = this.optimizer.kind === 'sgd' ? s.momentum : g.momentum;
        });
        const n = batch.files.length;
        const t0 = Date.now();
        const dropRng = new Rng('droppath', this.o.seed, iter);
        const r = await this.step.run(
          n,
          {
            images: { dtype: 'float32', shape: [n, 3, this.o.imgsz, this.o.imgsz], data: batch.images },
            ...this.objective.feeds(batch),
          },
          () => dropRng.float(),
        );
        if (!Number.isFinite(r.loss))
          throw new Error(`loss became ${r.loss} at epoch ${epoch + 1}, step ${b + 1}; lower lr0`);
        for (const [k, v] of Object.entries(r.terms)) termSums[k] = (termSums[k] ?? 0) + v;
        clipGradNorm(r.grads, 10);
        this.optimizer.update(r.grads);
        this.ema.update();
        steps++;
        const elapsed = (Date.now() - started) / 1000;
        const totalSteps = (this.o.epochs - startEpoch) * perEpoch;
        await hooks.afterStep?.({
          epoch,
          step: b,
          stepsPerEpoch: perEpoch,
          loss: r.loss,
          terms: r.terms,
          lr: this.optimizer.groups[0]!.lr,
          imagesPerSecond: (n * 1000) / Math.max(1, Date.now() - t0),
          etaSeconds: (elapsed / steps) * Math.max(0, totalSteps - steps),
        });
        b++;
        if (hooks.shouldStop?.()) cancelled = true;
        if (cancelled || (this.o.maxSteps !== undefined && steps >= this.o.maxSteps)) break;
      }
      if (cancelled) break; // the last completed epoch's checkpoint stays the resume point
      const trainSeconds = (Date.now() - epochStarted) / 1000;
      if (this.o.timeLimit !== undefined) {
        // Ultralytics' `time`: refit the epoch count to the budget from the mean epoch time so far (earlier
        // epochs' validation included), so the LR schedule and close-mosaic follow the new count.
        const spent = (Date.now() - started) / 1000;
        const perEpochSeconds = spent / (epoch + 1 - startEpoch);
        const fitted = epoch + 1 + Math.floor((this.o.timeLimit - spent) / perEpochSeconds);
        this.o.epochs = sched.epochs = this.loader.epochs = Math.max(epoch + 1, fitted);
      }
      const lastEpoch = epoch === this.o.epochs - 1;
      const validated = lastEpoch || (epoch + 1) % this.o.valEvery === 0;
      const metrics = validated ? await this.validate() : {};
      const f = validated ? fitness(metrics) : -1;
      const isBest = validated && f > bestFitness;
      if (isBest) [bestFitness, bestEpoch] = [f, epoch];
      const losses = Object.fromEntries(Object.entries(termSums).map(([k, v]) => [`loss.${k}`, v / Math.max(1, b)]));
      const info: EpochInfo = {
        epoch,
        metrics: {
          ...losses,
          ...metrics,
          ...(validated ? { fitness: f } : {}),
          lr: this.optimizer.groups[0]!.lr,
          imagesPerSecond: (b * this.o.batch) / Math.max(1e-3, trainSeconds),
          seconds: (Date.now() - epochStarted) / 1000,
        },
        best: isBest,
      };
      history.push(info);
      const ck = captureTraining({
        model: this.model,
        optimizer: this.optimizer,
        ema: this.ema,
        extra: { epoch, bestFitness, bestEpoch, history, config: this.o.config, imgsz: this.o.imgsz },
      });
      saveCheckpoint(last, ck);
      if (isBest) saveCheckpoint(best, ck);
      await hooks.afterEpoch?.(info);
      if (bestEpoch >= 0 && epoch - bestEpoch >= this.o.patience) {
        stoppedEarly = true;
        break;
      }
      if (this.o.maxSteps !== undefined && steps >= this.o.maxSteps) break;
    }
    return { epochs: history.length, bestFitness, last, best, stoppedEarly, cancelled, history };
  }

  /** COCO mAP of the EMA weights on the validation sources (letterboxed, decoded as EVAL_DECODE says). */
  async validate(): Promise<Record<string, number>> {
    if (!this.o.val.length) return {};
    const size = this.o.imgsz;
    // The inference graph with weights as inputs: one session for every validation, fed the EMA weights.
    const g = new Graph();
    this.model.eval();
    const outputs = this.objective.outputs(this.model, g.input('images', [1, 3, size, size]));
    this.model.train(true);
    const names = Object.keys(outputs);
    const { bytes, inputs } = encodeModel({
      graph: g,
      outputs,
      dynamicBatch: { inputs: ['images'], outputs: names },
    });
    const session = await this.runner.session('val', () => bytes);
    const weights: Record<string, ort.Tensor> = {};
    const shapes = new Map([...this.model.namedTensors()].map(([n, p]) => [n, p.shape]));
    for (const name of inputs) {
      if (name === 'images') continue;
      weights[name] = new ort.Tensor('float32', this.ema.shadow.get(name)!, [...shapes.get(name)!]);
    }
    const gt: CocoGt = {
      images: [],
      annotations: [],
      categories: Array.from({ length: this.o.config.nc }, (_, i) => ({ id: i })),
    };
    const dets: CocoDet[] = [];
    let annId = 1;
    for (let i = 0; i < this.o.val.length; i++) {
      const src = this.o.val[i]!;
      const lb = await letterbox(src, size);
      gt.images.push({ id: i + 1 });
      for (const b of src.boxes)
        gt.annotations.push({
          id: annId++,
          image_id: i + 1,
          category_id: b.cls,
          bbox: [b.x, b.y, b.w, b.h],
          area: b.w * b.h,
          iscrowd: 0,
        });
      const res = await session.run({ ...weights, images: new ort.Tensor('float32', lb.data, [1, 3, size, size]) });
      for (const d of decode(this.objective.layout, asOutputs(res), 0, EVAL_DECODE)) {
        dets.push({ image_id: i + 1, category_id: d.classId, score: d.score, bbox: unletterbox(d.box, lb) });
      }
    }
    const r = cocoEvaluate(gt, dets);
    return {
      'mAP50-95': Math.max(0, r.stats[0]!),
      mAP50: Math.max(0, r.stats[1]!),
      mAP75: Math.max(0, r.stats[2]!),
      recall100: Math.max(0, r.stats[8]!),
    };
  }
}
