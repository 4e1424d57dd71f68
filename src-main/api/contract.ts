/**
 * The one API contract. Every request the renderer, Electron IPC, the browser-mode server and the CLI
 * can make is declared here once: its input schema (validated at the boundary) and its output type.
 * Events pushed from the backend are declared in `ApiEvents`.
 */
import { IMAGE_SORTS, type ImageFacets } from '../store/images.js';
import type { JobInfo } from '../jobs/manager.js';
import type { ExportModelResult } from '../export/export-model.js';
import { z } from 'zod';
import type { ItemError } from '../formats/dataset.js';
import type { EditResult } from '../store/annotations.js';
import type { ClassOpResult, ClassUsage } from '../store/classes.js';
import type { PathInfo } from './path-check.js';
import type { DatasetHealth } from '../store/health.js';
import type {
  AnnotationRecord,
  ClassRecord,
  ImageRecord,
  PredictionRecord,
  ProjectCounts,
  ProjectSettings,
  RunRecord,
  TeacherRecord,
} from '../store/types.js';
import { IMAGE_STATUSES, REVIEW_STATES, SPLITS } from '../store/types.js';
import type { ModelCard } from '../models/card.js';
import type { Leaderboard } from '../eval/leaderboard.js';
import type { RunEvaluation } from '../eval/run-evaluation.js';
import type { DetectionReview } from '../eval/detection-review.js';
import { layoutNames } from '../inference/decode.js';
import { formatNames } from '../formats/index.js';
import { architectureNames, backboneNames, headNames } from '../models/zoo.js';
import { headGains, trainableHeads } from '../train/objectives/index.js';
import { DEFAULT_RUN_SETTINGS, modelRequestSchema } from '../settings/run-settings.js';
import { experimentSchema } from '../settings/experiment-file.js';
import type { PresetInfo } from '../settings/presets.js';
import type { MergeResult } from '../store/merge-runs.js';
export type { PresetInfo };
import { teacherSettingsSchema } from '../settings/teacher-config.js';
import type { TeacherProbe } from '../teachers/teacher.js';
import type { ReviewCounts } from '../store/pseudo-labels.js';
import type { StartPreview } from '../train/start-weights.js';

/** A teacher as distillation would use it (`distill.inspect`). */
export interface TeacherPreview {
  spec: string;
  name: string;
  family: string;
  mode: 'dense' | 'boxes' | 'cached';
  classes: string[];
  imgsz: number;
}
import type { PseudoLabelQuality } from '../teachers/quality.js';

// ---- shared schemas ------------------------------------------------------------------------------

const id = z.number().int().nonnegative();
const split = z.enum(SPLITS);
const finite = z.number().finite();
const none = z.object({}).strict().default({});
const imgsz = z.number().int().positive().multipleOf(32);
const layout = z.string().refine((f) => layoutNames().includes(f), {
  error: (i) => `unknown family "${String(i.input)}"; known: ${layoutNames().join(', ')}`,
});
/** Teacher settings as a request gives them: any subset (registration fills in the defaults). */
const teacherSettings = teacherSettingsSchema.partial().shape;

/**
 * `loss.gains` names terms of the head the run trains, and only fixed weighting uses them (adaptive weights hold
 * each term at `loss.targets` instead). A model taken from a weights file is only known in the job, which checks
 * there (objectives/objective.ts).
 */
const knownGains = (
  req: {
    model?: { head?: string };
    weights?: { from?: string };
    loss?: { gains?: Record<string, number>; weighting?: string };
  },
  ctx: z.RefinementCtx,
) => {
  if (Object.keys(req.loss?.gains ?? {}).length && req.loss?.weighting === 'adaptive')
    ctx.addIssue({
      code: 'custom',
      path: ['loss', 'gains'],
      message: 'fixed gains do nothing under adaptive weights, which hold each term at loss.targets: set those',
    });
  const head = req.model?.head ?? (req.weights?.from ? undefined : DEFAULT_RUN_SETTINGS.model.head);
  const gains = head === undefined ? undefined : headGains(head);
  if (!gains) return;
  for (const k of Object.keys(req.loss?.gains ?? {}))
    if (!(k in gains))
      ctx.addIssue({
        code: 'custom',
        path: ['loss', 'gains', k],
        message: `the ${head} head has no loss term ${k} (its terms: ${Object.keys(gains).join(', ')})`,
      });
};

/**
 * A model to train must name a registered architecture and backbone and a head that has a training objective:
 * a bad name is refused with the valid ones before any job starts.
 */
const trainableModel = (m: { model?: string; backbone?: string; head?: string }, ctx: z.RefinementCtx) => {
  const check = (key: 'model' | 'backbone' | 'head', known: string[], what: string) => {
    const v = m[key];
    if (v !== undefined && !known.includes(v))
      ctx.addIssue({ code: 'custom', path: [key], message: `${what} "${v}"; known: ${known.join(', ')}` });
  };
  check('model', architectureNames(), 'unknown architecture');
  check('backbone', backboneNames(), 'unknown backbone');
  if (m.head !== undefined && headNames().includes(m.head) && !trainableHeads().includes(m.head))
    ctx.addIssue({
      code: 'custom',
      path: ['head'],
      message: `a model with head '${m.head}' has no detection output to train (trainable heads: ${trainableHeads().join(', ')})`,
    });
  else check('head', headNames(), 'unknown head');
};

export const imageFilterSchema = z
  .object({
    split: split.optional(),
    status: z.enum([...IMAGE_STATUSES, 'pending', 'partial']).optional(),
    classId: id.optional(),
    source: z.string().max(200).optional(),
    minScore: z.number().min(0).max(1).optional(),
    maxScore: z.number().min(0).max(1).optional(),
    pathContains: z.string().max(500).optional(),
    pendingMinScore: z.number().min(0).max(1).optional(),
    sort: z.enum(IMAGE_SORTS).optional(),
  })
  .strict();

export const editOpSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('create'),
      classId: id,
      x: finite,
      y: finite,
      w: finite.nonnegative(),
      h: finite.nonnegative(),
      /**
       * A box from a run's prediction (`model:<run id>` with its score), from the detection review: accepted (it was a
       * missing label) or rejected (a false positive, kept as declined). Drawn boxes leave these out: manual.
       */
      source: z
        .string()
        .regex(/^model:\d+$/)
        .optional(),
      score: z.number().min(0).max(1).optional(),
      review: z.enum(['accepted', 'rejected']).optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal('update'),
      id,
      classId: id.optional(),
      x: finite.optional(),
      y: finite.optional(),
      w: finite.nonnegative().optional(),
      h: finite.nonnegative().optional(),
      review: z.enum(REVIEW_STATES).optional(),
    })
    .strict(),
  z.object({ op: z.literal('delete'), id }).strict(),
]);

export const datasetFormat = z.string().refine((f) => formatNames().includes(f), {
  error: (i) => `unknown format "${String(i.input)}"; known: ${formatNames().join(', ')}`,
});

export type { JobInfo } from '../jobs/manager.js';
export type { ExportModelResult } from '../export/export-model.js';

// ---- outputs -------------------------------------------------------------------------------------

export interface ProjectSummary {
  file: string;
  root: string;
  name: string;
  classes: ClassRecord[];
  counts: ProjectCounts;
  settings: ProjectSettings;
}

export interface AppInfo {
  name: 'Starling';
  version: string;
  node: string;
  platform: string;
}

export interface ImageDetail {
  image: ImageRecord;
  annotations: AnnotationRecord[];
  canUndo: boolean;
  canRedo: boolean;
}

export interface HeadInfo {
  name: string;
  description: string;
  styles: { name: string; description: string; layout: string | null }[];
  trainable: boolean;
}

export interface ImportResult {
  images: number;
  boxes: number;
  classesCreated: string[];
  skipped: ItemError[];
}

export interface ExportResult {
  files: number;
  outDir: string;
  /** Labeled images written into the splits, and their boxes. */
  images: number;
  boxes: number;
  /** Images not written as labeled: never labeled, or with boxes waiting for review; pooled apart or left out. */
  notLabeled: { unlabeled: number; underReview: number; pooled: boolean };
}

// ---- the contract --------------------------------------------------------------------------------

/** Declares a method: its input schema now, its output type as a type argument. */
const method =
  <O>() =>
  <I extends z.ZodType>(input: I) => ({ input, output: undefined as unknown as O });

export const contract = {
  'app.info': method<AppInfo>()(none),

  'project.create': method<ProjectSummary>()(
    z.object({ path: z.string().min(1), name: z.string().optional() }).strict(),
  ),
  'project.open': method<ProjectSummary>()(z.object({ path: z.string().min(1) }).strict()),
  'project.close': method<{ closed: boolean }>()(none),
  'project.current': method<ProjectSummary | null>()(z.object({ perSplitClass: z.boolean().default(false) }).strict()),
  'project.recent': method<string[]>()(none),
  'project.setSetting': method<ProjectSettings>()(z.object({ key: z.string().min(1), value: z.unknown() }).strict()),

  'classes.list': method<ClassRecord[]>()(none),
  'classes.create': method<ClassRecord>()(
    z
      .object({
        name: z.string().min(1).max(200),
        color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/)
          .optional(),
      })
      .strict(),
  ),
  'classes.update': method<ClassRecord>()(
    z
      .object({
        id,
        name: z.string().min(1).max(200).optional(),
        color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/)
          .optional(),
      })
      .strict(),
  ),
  'classes.reorder': method<ClassRecord[]>()(z.object({ ids: z.array(id) }).strict()),
  'classes.delete': method<{ deleted: number }>()(z.object({ id, reassignTo: id.optional() }).strict()),
  /** What deleting or merging the class would touch (the confirmation's counts). */
  'classes.usage': method<ClassUsage>()(z.object({ id }).strict()),
  /** Deletes the class and all its boxes; undoable with classes.undo. */
  'classes.deleteWithBoxes': method<ClassOpResult>()(z.object({ id }).strict()),
  /** Moves every box of `from` to `into` and deletes `from`; undoable with classes.undo. */
  'classes.merge': method<ClassOpResult>()(z.object({ from: id, into: id }).strict()),
  /** Undoes the latest class delete or merge (null when there is none). */
  'classes.undo': method<ClassOpResult | null>()(none),

  'images.list': method<{ total: number; items: ImageRecord[] }>()(
    z
      .object({
        filter: imageFilterSchema.default({}),
        offset: z.number().int().nonnegative().default(0),
        limit: z.number().int().positive().max(1000).default(200),
        /** Each image's boxes too (not rejected), for thumbnail overlays. */
        withBoxes: z.boolean().default(false),
      })
      .strict(),
  ),
  'images.count': method<{ total: number }>()(z.object({ filter: imageFilterSchema.default({}) }).strict()),
  /** For each gallery filter, how many images each of its choices would show with the other filters applied. */
  'images.facets': method<ImageFacets>()(z.object({ filter: imageFilterSchema.default({}) }).strict()),
  'images.get': method<ImageDetail>()(z.object({ id }).strict()),
  'images.neighbors': method<{ index: number; total: number; prev: number | null; next: number | null }>()(
    // `wrap`: past the last image comes the first (the review queue goes round).
    z.object({ id, filter: imageFilterSchema.default({}), wrap: z.boolean().default(false) }).strict(),
  ),
  'images.add': method<{ jobId: string }>()(
    z.object({ paths: z.array(z.string().min(1)).min(1), split: split.default('train') }).strict(),
  ),
  /**
   * Images sent as bytes (browser mode's file picker gives no paths): saved into the project's `uploads/` folder,
   * then added as `images.add` adds files. The renderer sends them in batches under the API's body limit.
   */
  'images.upload': method<{ jobId: string; saved: string[] }>()(
    z
      .object({
        files: z.array(z.object({ name: z.string(), data: z.string() }).strict()).min(1),
        split: split.default('train'),
      })
      .strict(),
  ),
  'images.setSplit': method<{ updated: number }>()(z.object({ ids: z.array(id).min(1), split }).strict()),
  /** Every image id a filter shows, in gallery order (select all in filter). */
  'images.ids': method<number[]>()(z.object({ filter: imageFilterSchema.default({}) }).strict()),
  /** Deletes images from the project (their files stay), undoable with images.undoDelete. */
  'images.delete': method<{ images: number; boxes: number }>()(z.object({ ids: z.array(id).min(1) }).strict()),
  /** Marks images done as negatives (nothing on them); those holding an accepted box are skipped. */
  'images.markNegative': method<{ images: number; rejected: number; skipped: number }>()(
    z.object({ ids: z.array(id).min(1) }).strict(),
  ),
  'images.undoDelete': method<{ images: number; boxes: number; skipped: number } | null>()(none),
  'images.setStatus': method<{ updated: number }>()(
    z.object({ ids: z.array(id).min(1), status: z.enum(IMAGE_STATUSES) }).strict(),
  ),
  /**
   * Marks images done (their labels are complete: boxes still pending on them are rejected) or, with done: false,
   * reopens them. Deciding boxes never completes an image by itself.
   */
  'images.markDone': method<{ images: number; rejected: number }>()(
    z.object({ ids: z.array(id).min(1), done: z.boolean().default(true) }).strict(),
  ),

  'annotations.edit': method<EditResult>()(
    z.object({ imageId: id, ops: z.array(editOpSchema).min(1), label: z.string().max(100).optional() }).strict(),
  ),
  'annotations.undo': method<EditResult & { changed: boolean }>()(z.object({ imageId: id }).strict()),
  'annotations.redo': method<EditResult & { changed: boolean }>()(z.object({ imageId: id }).strict()),

  'dataset.import': method<{ jobId: string }>()(
    z
      .object({
        format: datasetFormat,
        input: z.string().min(1),
        imagesRoot: z.string().optional(),
        split: split.optional(),
        skipBad: z.boolean().default(false),
        existing: z.enum(['error', 'skip']).default('error'),
      })
      .strict(),
  ),
  /** Class balance, box counts, sizes and aspects by split, duplicates, edge-touching and tiny boxes. */
  'dataset.health': method<DatasetHealth>()(none),
  /** A job: groups of near-duplicate images (a difference hash per image; within 3 of 64 bits). */
  'dataset.nearDuplicates': method<{ jobId: string }>()(none),
  'dataset.export': method<{ jobId: string }>()(
    z
      .object({
        format: datasetFormat,
        outDir: z.string().min(1),
        images: z.enum(['link', 'copy', 'none']).default('link'),
        /** Images not labeled yet (or under review): left out of the export, or (YOLO) kept apart. */
        unlabeled: z.enum(['skip', 'pool']).default('skip'),
        /** Create `outDir` when it does not exist (the UI asks first; the CLI does). */
        createDirs: z.boolean().default(true),
      })
      .strict(),
  ),

  'sample.create': method<{ jobId: string }>()(
    z
      .object({
        dir: z.string().min(1),
        seed: z.number().int().default(0),
        counts: z.object({ train: id, pool: id, val: id, test: id }).strict().optional(),
        /** How object sizes are drawn: COCO's shares of small, medium and large (default), or the first sample's. */
        sizes: z.enum(['coco', 'log-uniform']).default('coco'),
        open: z.boolean().default(true),
      })
      .strict(),
  ),

  'zoo.list': method<ModelCard[]>()(
    z
      .object({
        imgsz: z.number().int().positive().multipleOf(32).default(640),
        kind: z.enum(['backbone', 'detector']).optional(),
      })
      .strict(),
  ),
  /** Registered heads: what each exports (styles, with the output layout that reads them) and whether it trains. */
  'zoo.heads': method<HeadInfo[]>()(none),
  /** The presets in resources/configs (the seeds' models as experiment files), each with its file's text. */
  'presets.list': method<PresetInfo[]>()(none),
  /** Registered architectures (the config's `model`) with their scales. */
  'zoo.architectures': method<{ name: string; description: string; scales: string[] }[]>()(none),
  /** A detector's card; `freeze` counts the first N layers as fixed (trainable parameters). */
  'zoo.describe': method<ModelCard>()(
    z
      .object({
        config: z.record(z.string(), z.unknown()),
        imgsz: z.number().int().positive().multipleOf(32).default(640),
        freeze: z.number().int().min(0).default(0),
      })
      .strict(),
  ),

  'models.export': method<ExportModelResult>()(
    z
      .object({
        config: z.record(z.string(), z.unknown()).optional(),
        run: id.optional(),
        weights: z.string().optional(),
        out: z.string().min(1),
        /** One of the model head's export styles (zoo.heads); the head's preferred one when left out. */
        style: z.string().min(1).optional(),
        /** Input size: a run's own (its data.imgsz) when left out, 640 otherwise. */
        imgsz: z.number().int().positive().multipleOf(32).optional(),
        names: z.array(z.string()).optional(),
        conf: z.number().min(0).max(1).default(0.25),
        iou: z.number().min(0).max(1).default(0.7),
        maxDet: z.number().int().positive().default(300),
        overwrite: z.boolean().default(true),
        /** Create the file's folder when it does not exist (the UI asks first; the CLI does). */
        createDirs: z.boolean().default(true),
      })
      .strict(),
  ),
  /** What is at a path (a field in browser mode, checked as it is typed). */
  'files.stat': method<PathInfo>()(z.object({ path: z.string().min(1) }).strict()),

  /**
   * Starts a training run with the given settings (settings/run-settings.ts: every section optional, defaults
   * filled in), or resumes run `resume` with its own stored settings.
   */
  'train.start': method<{ jobId: string }>()(
    // An experiment file's schema (settings/experiment-file.ts), with the zoo's names checked, and `resume`.
    experimentSchema
      .extend({
        model: modelRequestSchema.superRefine(trainableModel).prefault({}),
        resume: id.optional(),
        /** The sweep cell this run is (`starling sweep`): its config's name and a key of everything it ran with. */
        experiment: z
          .object({ name: z.string().min(1).max(200), key: z.string().regex(/^[0-9a-f]{16,64}$/) })
          .strict()
          .optional(),
      })
      .superRefine(knownGains),
  ),
  /**
   * What starting a run from `from` (a weights file or run:N) would do, without loading anything: what matches,
   * what is re-initialised, the model taken from the file, and why the run would be refused.
   */
  'weights.inspect': method<StartPreview>()(
    z
      .object({
        from: z.string().min(1),
        model: modelRequestSchema.superRefine(trainableModel).prefault({}),
      })
      .strict(),
  ),
  /**
   * What distilling from these teachers would do for this model: each teacher's family, how it teaches (dense
   * when its outputs line up with the student's, else boxes), and the project classes it teaches.
   */
  'distill.inspect': method<TeacherPreview[]>()(
    z
      .object({
        teachers: z.array(z.string().min(1)).min(1),
        model: modelRequestSchema.superRefine(trainableModel).prefault({}),
        imgsz,
        cache: z.boolean().default(false),
      })
      .strict(),
  ),
  'runs.evaluate': method<RunEvaluation>()(z.object({ id, split: z.enum(['val', 'test']).default('val') }).strict()),
  /** Every run with its latest evaluation on the split (same evaluator), model size, latency and train time. */
  'runs.leaderboard': method<Leaderboard>()(z.object({ split: z.enum(['val', 'test']).default('val') }).strict()),
  /** A run's stored predictions against the split's labels: per-image TP/FP/FN, PR curves, confusion matrix. */
  'runs.review': method<DetectionReview>()(
    z
      .object({ id, split: z.enum(['val', 'test']).default('val'), conf: z.number().min(0).max(1).default(0.25) })
      .strict(),
  ),
  'runs.predictions': method<PredictionRecord[]>()(z.object({ id, imageId: id }).strict()),
  'runs.epochs': method<{ epoch: number; metrics: Record<string, number> }[]>()(z.object({ id }).strict()),

  'teachers.list': method<TeacherRecord[]>()(none),
  /** Output layouts a teacher can have, with the model families that produce them. */
  'teachers.families': method<{ name: string; families: string }[]>()(none),
  /** Inspects an ONNX file as a teacher would be (family, input size, classes) without registering it. */
  'teachers.probe': method<TeacherProbe>()(
    z
      .object({
        path: z.string().min(1),
        family: layout.optional(),
        imgsz: imgsz.optional(),
        names: z.array(z.string().min(1)).optional(),
      })
      .strict(),
  ),
  'teachers.add': method<TeacherRecord>()(
    z
      .object({
        path: z.string().min(1),
        name: z.string().min(1).max(64).optional(),
        family: layout.optional(),
        names: z.array(z.string().min(1)).optional(),
        imgsz: imgsz.optional(),
        ...teacherSettings,
      })
      .strict(),
  ),
  'teachers.update': method<TeacherRecord>()(z.object({ id, ...teacherSettings }).strict()),
  'teachers.remove': method<{ removed: number }>()(z.object({ id }).strict()),
  'pseudo.start': method<{ jobId: string }>()(
    z
      .object({
        teachers: z.array(id).min(1),
        conf: z.number().min(0).max(1).default(0.25),
        iou: z.number().min(0).max(1).default(0.6),
        fuse: z.enum(['wbf', 'nms']).default('wbf'),
        only: z.enum(['unlabeled', 'all']).default('unlabeled'),
        /** Only these images (a selection), `only` still applying. */
        imageIds: z.array(id).min(1).optional(),
        tta: z.boolean().optional(),
        batch: z.number().int().positive().max(64).default(8),
      })
      .strict(),
  ),
  /**
   * Accept, reject or reopen pending teacher boxes: by ids, per image, or in bulk by class and score range. No image
   * is completed by it unless `done` asks to mark done the touched images left with nothing pending.
   */
  'review.set': method<{ changed: number; doneImages: number }>()(
    z
      .object({
        state: z.enum(REVIEW_STATES),
        ids: z.array(id).optional(),
        imageId: id.optional(),
        classId: id.optional(),
        minScore: z.number().min(0).max(1).optional(),
        maxScore: z.number().min(0).max(1).optional(),
        /** Count what would change, change nothing (the UI asks before a bulk accept). */
        dryRun: z.boolean().default(false),
        /** Also mark done the images this leaves with nothing pending (their labels are complete). */
        done: z.boolean().default(false),
      })
      .strict(),
  ),
  'review.counts': method<ReviewCounts>()(none),
  /** What the review queue has left at a score threshold: images with such pending boxes, and the boxes. */
  'review.progress': method<{ images: number; boxes: number }>()(
    z.object({ minScore: z.number().min(0).max(1).default(0) }).strict(),
  ),
  'review.quality': method<PseudoLabelQuality | null>()(none),
  'runs.list': method<RunRecord[]>()(none),
  /** Renames a run and/or sets its note. */
  'runs.describe': method<RunRecord>()(
    z.object({ id, name: z.string().min(1).max(200).optional(), note: z.string().max(5000).optional() }).strict(),
  ),
  /**
   * Deletes a run: its record, epochs, evaluations and predictions, and its folder under the project's runs/.
   * Refused while it trains, or while a registered teacher is a file in its folder.
   */
  'runs.delete': method<{ deleted: number; removedDir: string | null }>()(z.object({ id }).strict()),
  /**
   * Merges the finished runs of another copy of this project (a sweep's node) into this one: settings, summary,
   * epochs, evaluations and run folder; refused when the class lists differ; a run merged before is skipped.
   */
  'runs.merge': method<MergeResult>()(z.object({ from: z.string().min(1) }).strict()),
  /** Execution providers this onnxruntime-node install can use, and what `auto` picks. */
  'runtime.devices': method<{ available: string[]; auto: string }>()(none),

  'jobs.list': method<JobInfo[]>()(none),
  'jobs.get': method<JobInfo>()(z.object({ id: z.string() }).strict()),
  'jobs.cancel': method<JobInfo>()(z.object({ id: z.string() }).strict()),
} as const;

export type Contract = typeof contract;
export type ApiMethod = keyof Contract;
/** What a caller passes (defaults optional). */
export type ApiInput<M extends ApiMethod> = z.input<Contract[M]['input']>;
/** What a handler receives (defaults filled in). */
export type ApiParsedInput<M extends ApiMethod> = z.output<Contract[M]['input']>;
export type ApiOutput<M extends ApiMethod> = Contract[M]['output'];

/** Events the backend pushes to every connected client. */
export interface ApiEvents {
  'job.progress': JobInfo;
  'job.finished': JobInfo;
  /** A line worth keeping in a log (an epoch's summary). */
  'job.log': { id: string; kind: string; line: string };
  'project.changed': {
    what: 'opened' | 'closed' | 'images' | 'annotations' | 'classes' | 'settings';
    imageIds?: number[];
  };
}
export type ApiEventName = keyof ApiEvents;
export interface ApiEvent<E extends ApiEventName = ApiEventName> {
  event: E;
  data: ApiEvents[E];
}

/** The error shape every transport returns. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(contract, name);
}
