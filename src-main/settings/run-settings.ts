/**
 * A training run's settings: one schema, checked at the API boundary, stored with the run, read back typed, with
 * every default in one place. The CLI's flags, the Train view's form and the trainer all take their defaults from
 * here (`DEFAULT_RUN_SETTINGS`). Sections follow SimDeblur-style experiment files: model, data, augment,
 * optimizer, budget. Pure zod: the renderer imports it too.
 */
import { z } from 'zod';
import { detectorConfigSchema } from '../models/config.js';
import { DEVICES } from '../runtime/devices.js';
import { SPLITS } from './splits.js';
import { describeIssues } from '../util/issues.js';

/** The student: a detector config whose backbone defaults to the product's default student. */
export const trainModelSchema = detectorConfigSchema.extend({
  backbone: z.string().min(1).default('starnet_s050'),
});

/**
 * The model as a request gives it: any subset, no defaults filled in, so the run's start can tell what the caller
 * chose from what it may take from a weights file (resolveRunSettings fills the rest).
 */
export const modelRequestSchema = z
  .object(
    Object.fromEntries(
      Object.entries(trainModelSchema.shape).map(([k, v]) => [
        k,
        (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : v).optional(),
      ]),
    ) as { [K in keyof typeof trainModelSchema.shape]: z.ZodOptional<z.ZodType<z.output<typeof trainModelSchema>[K]>> },
  )
  .strict();

export const dataSettingsSchema = z
  .object({
    imgsz: z.number().int().positive().multipleOf(32).default(320),
    batch: z.number().int().positive().default(16),
    /** The splits whose images it trains on. */
    trainSplits: z
      .array(z.enum(SPLITS))
      .min(1)
      .refine((a) => new Set(a).size === a.length, 'a split is named twice')
      .default(['train']),
    /** The split it validates on each epoch (fitness picks the best checkpoint by it). */
    valSplit: z.enum(SPLITS).default('val'),
    /** Also train on pending pseudo-labels (at `pendingWeight` in the loss). */
    includePending: z.boolean().default(false),
    pendingWeight: z.number().min(0).max(1).default(0.5),
    /**
     * Keep decoded training images in memory (Ultralytics' cache=ram): `auto` when they fit in half the free
     * memory (at most 4 GiB), `ram` always, `off` never.
     */
    cache: z.enum(['auto', 'ram', 'off']).default('auto'),
  })
  .strict();

/** Ultralytics' augmentation gains (hyp.scratch defaults). */
export const augmentSettingsSchema = z
  .object({
    /** Probability of a 4-image mosaic. */
    mosaic: z.number().min(0).max(1).default(1),
    /** Mosaic off for the last this many epochs (close_mosaic). */
    closeMosaic: z.number().int().min(0).default(10),
    hsvH: z.number().min(0).max(1).default(0.015),
    hsvS: z.number().min(0).max(1).default(0.7),
    hsvV: z.number().min(0).max(1).default(0.4),
    fliplr: z.number().min(0).max(1).default(0.5),
    /** Random scale range 1 +/- scale. */
    scale: z.number().min(0).max(0.95).default(0.5),
    /** Random translation, as a fraction of the input size. */
    translate: z.number().min(0).max(0.5).default(0.1),
  })
  .strict();

export const optimizerSettingsSchema = z
  .object({
    /** `auto` is Ultralytics' rule: SGD for long runs, else AdamW with a learning rate fitted to the class count. */
    name: z.enum(['auto', 'SGD', 'AdamW']).default('auto'),
    lr0: z.number().positive().default(0.01),
    /** Final learning rate as a fraction of lr0. */
    lrf: z.number().positive().max(1).default(0.01),
    momentum: z.number().min(0).max(1).default(0.937),
    weightDecay: z.number().min(0).default(0.0005),
    schedule: z.enum(['linear', 'cosine']).default('linear'),
    warmupEpochs: z.number().min(0).max(100).default(3),
    /** Ultralytics floors warmup at 100 iterations; small sets may lower it. */
    warmupMinIters: z.number().int().min(0).default(100),
    warmupBiasLr: z.number().min(0).default(0.1),
    warmupMomentum: z.number().min(0).max(1).default(0.8),
    /** Global gradient-norm clip. */
    clipNorm: z.number().positive().default(10),
    emaDecay: z.number().min(0).max(1).default(0.9999),
    /** EMA ramp: decay_t = decay * (1 - exp(-t / tau)). */
    emaTau: z.number().positive().default(2000),
  })
  .strict();

export const budgetSettingsSchema = z
  .object({
    epochs: z.number().int().positive().default(30),
    /** Wall-clock budget: the epoch count is refitted after each epoch, and the run stops when it is spent. */
    minutes: z.number().positive().optional(),
    /** Stop after this many epochs without a better validation. */
    patience: z.number().int().positive().default(50),
    /** Validate every this many epochs (the last epoch always is). */
    valEvery: z.number().int().positive().default(1),
  })
  .strict();

/**
 * A run of this project named in settings (`weights.from`, `distill.teachers`): `run:N`, its best checkpoint, or
 * `run:N:last`.
 */
export const RUN_REF = /^run:(\d+)(?::(best|last))?$/;

/** The run ids a run's settings name (as a starting point or as a teacher). */
export function runRefsOf(settings: RunSettings): number[] {
  return [settings.weights.from, ...settings.distill.teachers]
    .map((v) => (v ? RUN_REF.exec(v.trim()) : null))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
}

/** The settings with every `run:N` they name renumbered by `to` (ids it does not map are left as written). */
export function renumberRunRefs(settings: RunSettings, to: (id: number) => number | undefined): RunSettings {
  const one = (v: string) => {
    const m = RUN_REF.exec(v.trim());
    const id = m ? to(Number(m[1])) : undefined;
    return m && id !== undefined ? `run:${id}${m[2] ? `:${m[2]}` : ''}` : v;
  };
  return {
    ...settings,
    weights: { ...settings.weights, ...(settings.weights.from ? { from: one(settings.weights.from) } : {}) },
    distill: { ...settings.distill, teachers: settings.distill.teachers.map(one) },
  };
}

/** Where the student's weights start (models/weights.ts reads them; train/start-weights.ts plans the start). */
export const weightsSettingsSchema = z
  .object({
    /**
     * A weights file (Starling safetensors, a PyTorch .pt/.pth/.pth.tar state dict, an Ultralytics checkpoint, an
     * ImageNet backbone) or `run:N` / `run:N:last`, a run of this project (its best checkpoint by default).
     * Unset: random initialisation.
     */
    from: z.string().min(1).optional(),
    /** Start even when almost nothing in the file matches the model (normally a sign of the wrong file). */
    force: z.boolean().default(false),
    /** Freeze the first N layers (`model.0` ... `model.<N-1>`), Ultralytics' freeze=N. */
    freeze: z.number().int().min(0).default(0),
  })
  .strict();

/**
 * Distillation (train/distill/): teachers run on each augmented batch inside the training step and the student
 * learns their outputs as well as (or instead of) the labels.
 */
export const distillSettingsSchema = z
  .object({
    /**
     * Teachers: a registered teacher by name (`NAME` or `teacher:NAME`, its class map from the Teachers view, or
     * `NAME:map.json` to give one) or a run of this project (`run:N`, self-distillation when it is this model).
     */
    teachers: z.array(z.string().min(1)).default([]),
    /**
     * Which images: `labeled` (labels + distillation on the done train images), `all` (those, and the not yet
     * labeled train images with distillation only), `unlabeled` (the not yet labeled ones only: label-free).
     */
    data: z.enum(['labeled', 'all', 'unlabeled']).default('labeled'),
    /** Gain of the distillation terms against the label terms. */
    weight: z.number().min(0).default(1),
    /** Box-level distillation keeps teacher boxes scoring at least this (their score is their loss weight). */
    conf: z.number().min(0).max(1).default(0.25),
    /**
     * Run each teacher once per image on the un-augmented image and keep its boxes on disk (keyed by the teacher
     * file's sha256): box-level distillation through the augmentation, no teacher in the step.
     */
    cache: z.boolean().default(false),
  })
  .strict();

/**
 * How the loss terms are weighted: `fixed` gains (the head's), or `adaptive` (centerX's "communism"): each term
 * is scaled every step to hold a fixed value, target / its detached value, so the gradient is
 * target x grad(log term). `targets` overrides the head's default targets by term name.
 */
export const lossSettingsSchema = z
  .object({
    weighting: z.enum(['fixed', 'adaptive']).default('fixed'),
    targets: z.record(z.string(), z.number().positive()).default({}),
    /**
     * Fixed gains by term name over the head's (yolo: box 7.5, cls 0.5, dfl 1.5, as Ultralytics'; centernet: hm 1,
     * wh 0.1, reg 1, as centerX's). The distillation terms are scaled by `distill.weight`.
     */
    gains: z.record(z.string(), z.number().min(0)).default({}),
    /**
     * Anchor-based heads (yolov5): before a new run's first epoch, check the anchors against the training boxes and
     * refit them when they fit badly (YOLOv5's autoanchor; false is its --noautoanchor).
     */
    autoanchor: z.boolean().default(true),
  })
  .strict();

export const runSettingsSchema = z
  .object({
    model: trainModelSchema.prefault({}),
    weights: weightsSettingsSchema.prefault({}),
    data: dataSettingsSchema.prefault({}),
    augment: augmentSettingsSchema.prefault({}),
    optimizer: optimizerSettingsSchema.prefault({}),
    budget: budgetSettingsSchema.prefault({}),
    distill: distillSettingsSchema.prefault({}),
    loss: lossSettingsSchema.prefault({}),
    seed: z.number().int().default(0),
    device: z.enum(DEVICES).default('auto'),
  })
  .strict();

export type RunSettings = z.output<typeof runSettingsSchema>;
/** What a caller may give: every field optional, defaults filled in by `resolveRunSettings`. */
export type RunSettingsInput = z.input<typeof runSettingsSchema>;

export const DEFAULT_RUN_SETTINGS: RunSettings = runSettingsSchema.parse({});

/** Settings with defaults filled in; throws one line naming each bad key. */
export function resolveRunSettings(input: unknown, where = 'run settings'): RunSettings {
  const r = runSettingsSchema.safeParse(input ?? {});
  if (!r.success) throw new Error(`${where}: ${describeIssues(r.error)}`);
  return r.data;
}

/**
 * Settings stored by Starling before they had sections (schema migration 5 rewrites them): a flat record with
 * the detector config under `config`.
 */
export function fromLegacySettings(old: Record<string, unknown>): RunSettingsInput {
  const o = old as Record<string, never>;
  const pick = <T extends object>(entries: T) =>
    Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    model: (old.config ?? {}) as RunSettingsInput['model'],
    data: pick({ imgsz: o.imgsz, batch: o.batch, includePending: o.includePending }),
    augment: pick({ mosaic: o.mosaic, closeMosaic: o.closeMosaic }),
    optimizer: pick({
      name: o.optimizer,
      lr0: o.lr0,
      schedule: o.lrSchedule,
      warmupEpochs: o.warmupEpochs,
      warmupMinIters: o.warmupMinIters,
    }),
    budget: pick({
      epochs: o.epochs,
      patience: o.patience,
      valEvery: o.valEvery,
      minutes: typeof old.timeLimit === 'number' ? old.timeLimit / 60 : undefined,
    }),
    ...pick({ seed: o.seed, device: o.device }),
  };
}
