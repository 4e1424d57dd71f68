/**
 * Experiment files: a run described by a YAML file (SimDeblur's configs, for detection). A file holds the run
 * settings' sections (model, weights, data, augment, optimizer, budget, distill, loss, seed, device), any subset,
 * and a `name`; the schema is the API's (`experimentSchema` is `train.start`'s request without `resume`), so an
 * unknown key or a bad value is refused with the key named. The CLI's options override the file (SimDeblur's
 * `merge_args`): `mergeSettings(file, flags)`, then `--set key=value` for any dotted key. A run's stored settings
 * print back as a file that reproduces it (`formatExperiment`). Pure (yaml + zod): the renderer imports it too.
 */
import YAML from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../util/issues.js';
import { modelRequestSchema, runSettingsSchema, type RunSettings, type RunSettingsInput } from './run-settings.js';

export const experimentSchema = z
  .object({
    ...runSettingsSchema.shape,
    model: modelRequestSchema.prefault({}),
    /** The run's name (the CLI's --name wins). */
    name: z.string().min(1).max(100).optional(),
  })
  .strict();

/** What a file gives, as written: no defaults filled in, so options can override it key by key. */
export type ExperimentInput = RunSettingsInput & { name?: string };

/** The keys of a file, in the order a file is written. */
export const EXPERIMENT_SECTIONS = [
  'name',
  'model',
  'weights',
  'data',
  'augment',
  'optimizer',
  'loss',
  'distill',
  'budget',
  'seed',
  'device',
] as const;

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks a parsed document; throws one line naming the file and each bad key. */
export function checkExperiment(doc: unknown, where: string): ExperimentInput {
  if (!isPlain(doc))
    throw new Error(`${where}: an experiment file is a mapping of sections (${EXPERIMENT_SECTIONS.join(', ')})`);
  const r = experimentSchema.safeParse(doc);
  if (!r.success) throw new Error(`${where}: ${describeIssues(r.error)}`);
  return doc as ExperimentInput;
}

/** Reads an experiment file's text (YAML, or JSON, which is YAML). */
export function parseExperiment(text: string, where: string): ExperimentInput {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  return checkExperiment(doc ?? {}, where);
}

/** `over` on top of `base`, section by section and key by key; lists and values are replaced, not merged. */
export function mergeSettings<T extends Plain>(base: T, over: Plain): T {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeSettings(out[k], v) : v;
  }
  return out as T;
}

/**
 * One `--set key=value`: a dotted key (`augment.mosaic=0`, `optimizer.lr0=0.002`, `distill.teachers=[a, run:2]`)
 * and a YAML value, so numbers, booleans and lists read as such.
 */
export function parseAssignment(text: string): Plain {
  const m = /^([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)=(.*)$/s.exec(text);
  if (!m) throw new Error(`--set takes KEY=VALUE with a dotted key (e.g. augment.mosaic=0), not "${text}"`);
  let value: unknown;
  try {
    value = m[2] === '' ? '' : YAML.parse(m[2]!);
  } catch {
    value = m[2];
  }
  const keys = m[1]!.split('.');
  const out: Plain = {};
  let at = out;
  for (const k of keys.slice(0, -1)) at = at[k] = {} as Plain;
  at[keys.at(-1)!] = value;
  return out;
}

/** A run's settings as an experiment file: every section, every value, so it reproduces the run. */
export function formatExperiment(settings: RunSettings, o: { name?: string; header?: string[] } = {}): string {
  // The class count is the project's: a file names the model, the project it trains on decides nc.
  const { nc: _nc, ...model } = settings.model;
  const body: Plain = { ...(o.name ? { name: o.name } : {}), ...settings, model };
  const ordered: Plain = {};
  for (const k of EXPERIMENT_SECTIONS) if (body[k] !== undefined) ordered[k] = body[k];
  const doc = new YAML.Document(ordered);
  if (o.header?.length) doc.commentBefore = o.header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** The file that reproduces a stored run, with a header saying where it came from and how to run it. */
export function runExperimentFile(
  run: { id: number; name: string; status: string; settings: RunSettings; createdAt?: number },
  project: string,
): string {
  const started = run.createdAt === undefined ? '' : `, started ${new Date(run.createdAt).toISOString()}`;
  return formatExperiment(run.settings, {
    name: run.name,
    header: [
      `Starling experiment: run ${run.id} of ${project} (${run.status}${started})`,
      `Reproduce: starling train <project> --config <this file>; options given there override it`,
    ],
  });
}
