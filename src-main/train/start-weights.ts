/**
 * Where a new run's weights start (run settings `weights`): resolves `run:N` to that run's checkpoint, reads the
 * file, takes the model from it when the request did not name one (an Ultralytics checkpoint's architecture and
 * scale, an earlier run's config, as `yolo train model=yolov8n.pt` does), gives a plain backbone the width its
 * ImageNet checkpoint was trained at, plans the load and refuses a file that almost nothing of matches (unless
 * forced). The plan is applied by the trainer to the model it builds from the same settings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { backboneEntry } from '../models/backbone.js';
import type { DetectorConfig } from '../models/config.js';
import type { Detector } from '../models/detector.js';
import type { UltralyticsCard } from '../models/torch-checkpoint.js';
import {
  applyWeights,
  assessPlan,
  formatWeightReport,
  planWeights,
  readWeightSource,
  type WeightPlan,
  type WeightReport,
  type WeightSource,
} from '../models/weights.js';
import { buildDetector } from '../models/zoo.js';
import { RUN_REF, type RunSettings } from '../settings/run-settings.js';
import type { ProjectStore } from '../store/project.js';

export interface StartWeights {
  /** What the settings said (`run:3`, a path). */
  from: string;
  file: string;
  /** The run the weights come from, for `run:N`. */
  run?: number;
  report: WeightReport;
  /** What changed in the model to fit the file (taken from it, or a backbone width). */
  adopted: Partial<DetectorConfig>;
  /** Loads the weights into the trainer's model (built from the returned settings). */
  apply(model: Detector): void;
}

/** The file `from` names: a run's best (or last) checkpoint, or a path (relative ones from the project folder). */
export function resolveWeightsFile(store: ProjectStore, from: string): { file: string; run?: number } {
  const m = RUN_REF.exec(from.trim());
  if (m) {
    const id = Number(m[1]);
    const pick = (m[2] ?? 'best') as 'best' | 'last';
    const run = store.runs.get(id);
    const file = run.artifacts[pick];
    if (!file || !fs.existsSync(file))
      throw new StarlingError(
        'INVALID_INPUT',
        `run ${id} has no ${pick} checkpoint yet (${run.status}): start from a run that finished an epoch`,
      );
    return { file, run: id };
  }
  const file = path.resolve(store.root, from);
  if (!fs.existsSync(file)) throw new StarlingError('NOT_FOUND', `${file}: no such weights file`);
  return { file };
}

/** The architecture an Ultralytics checkpoint holds, in Starling's names, when Starling builds it. */
export function modelFromCard(card: UltralyticsCard): Partial<DetectorConfig> | null {
  const file = card.yamlFile ?? '';
  const family = /yolov8/.test(file)
    ? 'yolov8'
    : /yolo11/.test(file)
      ? 'yolo11'
      : card.layers.includes('C3k2')
        ? 'yolo11'
        : card.layers.includes('C2f')
          ? 'yolov8'
          : null;
  if (!family || !card.layers.at(-1)?.startsWith('Detect')) return null;
  const scale = card.scale && 'nsmlx'.includes(card.scale) ? (card.scale as DetectorConfig['scale']) : undefined;
  // yolov8n-p2.yaml: the same backbone, the neck that predicts at P2-P5 (its strides say so too).
  const model = card.strides[0] === 4 || /-p2\.ya?ml$/.test(file) ? `${family}-p2` : family;
  return { model, backbone: family, head: 'yolo', ...(scale ? { scale } : {}) };
}

type ModelRequest = Partial<Record<keyof DetectorConfig, unknown>> | undefined;

interface PlannedStart {
  file: string;
  run?: number;
  source: WeightSource;
  model: RunSettings['model'];
  plan: WeightPlan;
  adopted: Partial<DetectorConfig>;
  /** Why the file is refused, or null. */
  verdict: string | null;
}

/** Reads the file `from` names and plans it onto the model the run will have. */
function planStart(store: ProjectStore, settings: RunSettings, from: string, requested: ModelRequest): PlannedStart {
  const { file, run } = resolveWeightsFile(store, from);
  let source: WeightSource;
  try {
    source = readWeightSource(file);
  } catch (e) {
    throw new StarlingError('FORMAT', `${(e as Error).message}; nothing loaded, the run was not started`);
  }
  const given = (k: keyof DetectorConfig) => requested?.[k] !== undefined;
  const adopted: Partial<DetectorConfig> = {};
  const take = (c: Partial<DetectorConfig>) => {
    for (const [k, v] of Object.entries(c) as [keyof DetectorConfig, never][])
      if (!given(k) && k !== 'nc' && v !== undefined && settings.model[k] !== v) adopted[k] = v;
  };
  if (run !== undefined) take(store.runs.get(run).settings.model);
  else if (source.card) take(modelFromCard(source.card) ?? {});
  let model: RunSettings['model'] = { ...settings.model, ...adopted };
  const classNames = store.classes.list().map((c) => c.name);
  let plan = planWeights(buildDetector(model), source, { classNames });
  // An ImageNet checkpoint of a backbone that scales with the detector is at the reference width.
  const ref = backboneEntry(model.backbone).reference;
  if (
    assessPlan(plan.report) &&
    ref?.width !== undefined &&
    !given('backboneWidth') &&
    model.backboneWidth !== ref.width
  ) {
    const wider = { ...model, backboneWidth: ref.width };
    const p = planWeights(buildDetector(wider), source, { classNames });
    if (p.report.mode === 'backbone' && !assessPlan(p.report)) {
      model = wider;
      plan = p;
      adopted.backboneWidth = ref.width;
    }
  }
  return {
    file,
    ...(run !== undefined ? { run } : {}),
    source,
    model,
    plan,
    adopted,
    verdict: assessPlan(plan.report),
  };
}

/** What starting from `from` would do, for the Train view: nothing is loaded and nothing refused. */
export interface StartPreview {
  file: string;
  run?: number;
  report: WeightReport;
  adopted: Partial<DetectorConfig>;
  /** The model the run would have. */
  model: RunSettings['model'];
  /** Why the run would be refused (unless forced), or null. */
  verdict: string | null;
  card?: UltralyticsCard;
}

export function previewStart(
  store: ProjectStore,
  settings: RunSettings,
  from: string,
  requested: ModelRequest,
): StartPreview {
  const p = planStart(store, settings, from, requested);
  return {
    file: p.file,
    ...(p.run !== undefined ? { run: p.run } : {}),
    report: p.plan.report,
    adopted: p.adopted,
    model: p.model,
    verdict: p.verdict,
    ...(p.source.card ? { card: p.source.card } : {}),
  };
}

/**
 * The settings the run will be stored with and its start, or the settings unchanged and no start when it begins
 * from random weights. `requested`: the model fields the caller gave (what is not given may come from the file).
 */
export function prepareStart(
  store: ProjectStore,
  settings: RunSettings,
  requested: ModelRequest,
): { settings: RunSettings; start: StartWeights | null } {
  const from = settings.weights.from;
  if (!from) return { settings, start: null };
  const p = planStart(store, settings, from, requested);
  if (p.verdict && !settings.weights.force)
    throw new StarlingError(
      'INVALID_INPUT',
      `${p.file}: ${p.verdict}, so it is probably not weights for this model (${describeModel(p.model)}${hint(p.source)}); ` +
        `nothing loaded, the run was not started. Start anyway with --force-weights (weights.force).\n` +
        formatWeightReport(p.plan.report),
      { report: p.plan.report },
    );
  return {
    settings: { ...settings, model: p.model },
    start: {
      from,
      file: p.file,
      ...(p.run !== undefined ? { run: p.run } : {}),
      report: p.plan.report,
      adopted: p.adopted,
      apply: (m) => applyPlan(m, p.source, p.plan),
    },
  };
}

function applyPlan(model: Detector, source: WeightSource, plan: WeightPlan): void {
  applyWeights(model, source, plan);
  source.tensors.clear(); // the file's copy is no longer needed
}

const describeModel = (m: RunSettings['model']) =>
  `${m.model}${m.scale} with the ${m.backbone} backbone and the ${m.head} head`;

function hint(source: WeightSource): string {
  const c = source.card && modelFromCard(source.card);
  if (!c) return '';
  return `; the file holds an Ultralytics ${c.model}${c.scale ?? ''}: --model ${c.model} --backbone ${c.backbone}${c.scale ? ` --scale ${c.scale}` : ''}`;
}
