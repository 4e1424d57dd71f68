/**
 * Weights a user already has, into a model: read a file (models/weight-sources.ts), plan which of its tensors go
 * where, apply the plan, and say what happened. Tensors match by name and shape, one of two ways, whichever loads
 * more of the model:
 * - by the model's own names (a Starling run, a state dict saved from the same architecture, an Ultralytics
 *   checkpoint: Starling's names are Ultralytics' `model.<i>....`);
 * - as a backbone-only checkpoint: the backbone family declares how its reference (ImageNet) checkpoints name
 *   their tensors (backbone.ts `reference`), which are put under the detector's backbone prefix and their
 *   classifier dropped.
 * Shape mismatches are skipped and reported; those of the head's class layers (a file trained on another class
 * count) are re-initialised, as Ultralytics does. Nothing is changed until the plan is applied.
 */
import { backboneEntry } from './backbone.js';
import { Detector } from './detector.js';
import type { Module } from '../engine/nn.js';
import { readWeightSource, type WeightSource } from './weight-sources.js';

export { readWeightSource, type WeightSource } from './weight-sources.js';

export interface WeightReport {
  file: string;
  format: WeightSource['format'];
  sha256: string;
  /** `model`: by the model's names; `backbone`: a backbone-only checkpoint under its reference names. */
  mode: 'model' | 'backbone';
  /** Model tensor names that were loaded. */
  matched: string[];
  /** Model tensors the file has nothing for (left as initialised; shape mismatches are listed apart). */
  missing: string[];
  /** File tensors with no place in the model. */
  unexpected: string[];
  /** File tensors the reference naming drops (classifier heads). */
  dropped: string[];
  /** Same name, other shape: skipped. */
  shapeMismatch: { name: string; file: number[]; model: number[] }[];
  /** The head's class layers, re-initialised because the file has another class count. */
  reinitialised: string[];
  /**
   * When the file names its classes (an Ultralytics checkpoint) and the project's are among them: which project
   * classes the class layers carried over by name (their rows reordered), and which started fresh.
   */
  classes?: { carried: string[]; fresh: string[] };
  /** Parameter elements loaded / the model's parameter elements. */
  coverage: number;
  /** Of the file's usable tensors (not dropped, not class layers), the fraction that loaded. */
  fileUsed: number;
  /** Of the backbone's parameter elements, the fraction loaded (what a backbone-only file is for). */
  backboneCoverage: number;
}

export interface WeightPlan {
  report: WeightReport;
  /** Model tensor name -> file tensor name. */
  assign: Map<string, string>;
  /** Class layers loaded row by row: model row i takes file row rows[i] (-1: keeps its initialisation). */
  rows: Map<string, { fileName: string; rows: number[] }>;
}

export interface PlanOptions {
  /** The classes the model is for (the project's), to carry class layers over by name. */
  classNames?: readonly string[];
}

/** Below these a start is refused as "almost nothing matched" unless forced (see `assessPlan`). */
export const MIN_FILE_USED = 0.5;
export const MIN_COVERAGE = 0.05;

const isBookkeeping = (k: string) => k.endsWith('num_batches_tracked');

/** Plans loading `source` into `model`; with a Detector, also tries its backbone's reference naming. */
export function planWeights(model: Module, source: WeightSource, options: PlanOptions = {}): WeightPlan {
  const rows = classRows(source.classNames, options.classNames);
  const direct = planBy(model, source, 'model', (k) => k, rows);
  if (!(model instanceof Detector)) return direct;
  const ref = backboneEntry(model.config.backbone).reference;
  if (!ref) return direct;
  const prefix = model.backbonePrefix;
  const viaBackbone = planBy(
    model,
    source,
    'backbone',
    (k) => {
      const own = ref.rename(k);
      return own === null ? null : own === undefined ? undefined : prefix + own;
    },
    null,
  );
  const loaded = (p: WeightPlan) => p.report.coverage;
  return loaded(viaBackbone) > loaded(direct) ? viaBackbone : direct;
}

/**
 * `rename`: a file name to a model name; null drops it (a classifier), undefined means it has no place. The
 * first file name that lands on a model name wins.
 */
function planBy(
  model: Module,
  source: WeightSource,
  mode: WeightReport['mode'],
  rename: (fileName: string) => string | null | undefined,
  rows: ClassRows | null,
): WeightPlan {
  const tensors = [...model.namedTensors()];
  const byName = new Map(tensors);
  const assign = new Map<string, string>();
  const rowPlan = new Map<string, { fileName: string; rows: number[] }>();
  const report: WeightReport = {
    file: source.file,
    format: source.format,
    sha256: source.sha256,
    mode,
    matched: [],
    missing: [],
    unexpected: [],
    dropped: [],
    shapeMismatch: [],
    reinitialised: [],
    coverage: 0,
    fileUsed: 0,
    backboneCoverage: 0,
  };
  const nc = model instanceof Detector ? model.config.nc : -1;
  const headPrefix = model instanceof Detector ? model.headPrefix : null;
  const taken = new Set<string>();
  for (const [fileName, t] of source.tensors) {
    if (isBookkeeping(fileName)) continue;
    const target = rename(fileName);
    if (target === null) {
      report.dropped.push(fileName);
      continue;
    }
    const p = target === undefined ? undefined : byName.get(target);
    if (!p || target === undefined || taken.has(target)) {
      report.unexpected.push(fileName);
      continue;
    }
    taken.add(target);
    // A class layer: in the head, its first dimension the class count.
    const classLayer = headPrefix !== null && target.startsWith(headPrefix) && p.shape[0] === nc;
    if (classLayer && rows && t.shape[0] === rows.fileCount && t.shape.slice(1).join() === p.shape.slice(1).join()) {
      rowPlan.set(target, { fileName, rows: rows.rows });
      report.matched.push(target);
      continue;
    }
    if (t.shape.join() !== p.shape.join()) {
      // A class layer of a file trained on other classes starts fresh, as Ultralytics does.
      if (classLayer) report.reinitialised.push(target);
      else report.shapeMismatch.push({ name: target, file: [...t.shape], model: [...p.shape] });
      continue;
    }
    assign.set(target, fileName);
    report.matched.push(target);
  }
  // A class layer carries rows only whole: a conv whose weight cannot (its input width changed) keeps no bias rows.
  const moduleOf = (n: string) => n.slice(0, n.lastIndexOf('.'));
  const broken = new Set(report.reinitialised.map(moduleOf));
  for (const [target] of rowPlan)
    if (broken.has(moduleOf(target))) {
      rowPlan.delete(target);
      report.matched.splice(report.matched.indexOf(target), 1);
      report.reinitialised.push(target);
    }
  // With another class count the head's class branch can change width too (YOLO's c3 = max(ch, min(nc, 100))):
  // all of the head that no longer fits starts fresh, as Ultralytics' intersect_dicts leaves it.
  if (headPrefix !== null && report.reinitialised.length) {
    report.reinitialised.push(...report.shapeMismatch.filter((m) => m.name.startsWith(headPrefix)).map((m) => m.name));
    report.shapeMismatch = report.shapeMismatch.filter((m) => !m.name.startsWith(headPrefix));
  }
  const placed = new Set([
    ...assign.keys(),
    ...rowPlan.keys(),
    ...report.reinitialised,
    ...report.shapeMismatch.map((m) => m.name),
  ]);
  for (const [name] of tensors) if (!placed.has(name)) report.missing.push(name);
  if (rows && rowPlan.size) report.classes = { carried: rows.carried, fresh: rows.fresh };
  // Reports list the model's tensors in the model's order (the file's order is its own: safetensors sorts).
  const order = new Map(tensors.map(([n], i) => [n, i]));
  const byModel = (a: string, b: string) => order.get(a)! - order.get(b)!;
  report.matched.sort(byModel);
  report.reinitialised.sort(byModel);
  report.shapeMismatch.sort((a, b) => byModel(a.name, b.name));
  const elements = (names: Iterable<string>) => {
    let n = 0;
    for (const name of names) {
      const p = byName.get(name)!;
      if (p.kind === 'param') n += p.size;
    }
    return n;
  };
  const all = tensors.filter(([, p]) => p.kind === 'param').map(([n]) => n);
  report.coverage = elements(report.matched) / Math.max(1, elements(all));
  const usable = report.matched.length + report.unexpected.length + report.shapeMismatch.length;
  report.fileUsed = usable ? report.matched.length / usable : 0;
  if (model instanceof Detector) {
    const inBackbone = all.filter((n) => model.isBackboneTensor(n));
    report.backboneCoverage =
      elements(report.matched.filter((n) => model.isBackboneTensor(n))) / Math.max(1, elements(inBackbone));
  }
  return { report, assign, rows: rowPlan };
}

interface ClassRows {
  fileCount: number;
  rows: number[];
  carried: string[];
  fresh: string[];
}

/**
 * How the file's class rows map onto the model's, by name (case and spacing ignored), when both sides name their
 * classes, they differ, and at least one of the model's classes is in the file; otherwise null (rows load as
 * they are when the shapes agree, as Ultralytics loads them).
 */
function classRows(
  fileNames: readonly string[] | undefined,
  modelNames: readonly string[] | undefined,
): ClassRows | null {
  if (!fileNames?.length || !modelNames?.length) return null;
  const key = (n: string) =>
    n
      .trim()
      .toLowerCase()
      .replace(/[\s_-]+/g, ' ');
  if (fileNames.length === modelNames.length && fileNames.every((n, i) => key(n) === key(modelNames[i]!))) return null;
  const index = new Map(fileNames.map((n, i) => [key(n), i]));
  const rows = modelNames.map((n) => index.get(key(n)) ?? -1);
  if (rows.every((r) => r < 0)) return null;
  return {
    fileCount: fileNames.length,
    rows,
    carried: modelNames.filter((_, i) => rows[i]! >= 0),
    fresh: modelNames.filter((_, i) => rows[i]! < 0),
  };
}

/**
 * Why a plan is too poor to start from, or null: most of the file has no place in the model, or it fills almost
 * nothing of what it is for (the model, or for a backbone-only file the backbone).
 */
export function assessPlan(r: WeightReport): string | null {
  if (!r.matched.length) return 'no tensor in it matches the model';
  if (r.fileUsed < MIN_FILE_USED)
    return `only ${pct(r.fileUsed)} of its tensors fit the model (${r.matched.length} of ${r.matched.length + r.unexpected.length + r.shapeMismatch.length})`;
  const filled = r.mode === 'backbone' ? r.backboneCoverage : r.coverage;
  const min = r.mode === 'backbone' ? MIN_FILE_USED : MIN_COVERAGE;
  if (filled < min) return `it fills only ${pct(filled)} of the ${r.mode === 'backbone' ? 'backbone' : 'model'}`;
  return null;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

/** Copies the planned tensors into the model (as float32 copies). */
export function applyWeights(model: Module, source: WeightSource, plan: WeightPlan): void {
  const byName = new Map(model.namedTensors());
  for (const [target, fileName] of plan.assign)
    byName.get(target)!.data = Float32Array.from(source.tensors.get(fileName)!.data);
  for (const [target, { fileName, rows }] of plan.rows) {
    const p = byName.get(target)!;
    const from = source.tensors.get(fileName)!.data;
    const row = p.size / p.shape[0]!;
    const data = Float32Array.from(p.data);
    rows.forEach((r, i) => r >= 0 && data.set(from.subarray(r * row, (r + 1) * row), i * row));
    p.data = data;
  }
}

/**
 * Loads a file into a model by its own names (export and evaluation of known weights): throws when nothing
 * matches, and skips what does not fit, as the report says.
 */
export function loadWeights(model: Module, file: string): WeightReport {
  const source = readWeightSource(file);
  const plan = planWeights(model, source);
  if (!plan.report.matched.length) {
    const r = plan.report;
    throw new Error(
      `${file}: no tensor matches the model (${r.unexpected.length} unexpected, e.g. ${r.unexpected.slice(0, 3).join(', ')})`,
    );
  }
  applyWeights(model, source, plan);
  return plan.report;
}

export function formatWeightReport(r: WeightReport): string {
  const how = r.mode === 'backbone' ? ' as a backbone checkpoint' : '';
  const lines = [
    `${r.file}${how}: ${r.matched.length} tensors loaded (${pct(r.coverage)} of the parameters), ` +
      `${r.missing.length} missing, ${r.unexpected.length} unexpected, ${r.shapeMismatch.length} shape mismatches` +
      (r.reinitialised.length ? `, ${r.reinitialised.length} class layers re-initialised` : '') +
      (r.dropped.length ? `, ${r.dropped.length} classifier tensors dropped` : ''),
  ];
  const show = (label: string, xs: string[]) =>
    xs.length && lines.push(`  ${label}: ${xs.slice(0, 8).join(', ')}${xs.length > 8 ? ` (+${xs.length - 8})` : ''}`);
  show('missing', r.missing);
  show('unexpected', r.unexpected);
  show(
    'shape mismatch',
    r.shapeMismatch.map((m) => `${m.name} [${m.file.join(',')}] vs [${m.model.join(',')}]`),
  );
  show('re-initialised for the class count', r.reinitialised);
  if (r.classes)
    lines.push(
      `  classes carried over by name: ${r.classes.carried.join(', ')}` +
        (r.classes.fresh.length ? `; starting fresh: ${r.classes.fresh.join(', ')}` : ''),
    );
  return lines.join('\n');
}

/** The report as a run records it: counts and the first names of each list. */
export function summarizeWeightReport(r: WeightReport): Record<string, unknown> {
  const first = (xs: string[]) => xs.slice(0, 10);
  return {
    file: r.file,
    format: r.format,
    sha256: r.sha256,
    mode: r.mode,
    loaded: r.matched.length,
    coverage: r.coverage,
    backboneCoverage: r.backboneCoverage,
    missing: { count: r.missing.length, first: first(r.missing) },
    unexpected: { count: r.unexpected.length, first: first(r.unexpected) },
    shapeMismatch: { count: r.shapeMismatch.length, first: first(r.shapeMismatch.map((m) => m.name)) },
    reinitialised: { count: r.reinitialised.length, first: first(r.reinitialised) },
    dropped: r.dropped.length,
    ...(r.classes ? { classes: r.classes } : {}),
  };
}
