/**
 * A sweep's plan (SimDeblur's fair benchmark, for detection): every experiment file x every seed, each cell
 * trained under the same budget and overrides, so the configs differ only in what their files say. A cell is
 * known by a key, the hash of everything it trains with; a run carries its cell (`train.start`'s `experiment`), so
 * a sweep started again finds what it has, resumes what was cut off and trains only what it lacks. The order is
 * fixed (files as given, then seeds), so `--cell K` names the same cell in every process of a cluster array.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { mergeSettings, type ExperimentInput } from '../settings/experiment-file.js';

export interface SweepConfig {
  /** Where it was read from. */
  file: string;
  exp: ExperimentInput;
}

export interface SweepBudget {
  /** The same wall-clock budget for every cell (minutes), or the same epochs. */
  minutes?: number;
  epochs?: number;
}

export interface SweepCell {
  index: number;
  /** The config's name: its file's name without the extension. */
  config: string;
  file: string;
  seed: number;
  /** The train.start request of the cell (without its run name and cell identity). */
  request: ExperimentInput;
  key: string;
  runName: string;
}

/** JSON with object keys sorted: the same settings give the same text, whatever order a file wrote them in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export const configName = (file: string) => path.basename(file).replace(/\.(ya?ml|json)$/i, '');

export function planSweep(
  configs: SweepConfig[],
  o: { seeds: number; budget: SweepBudget; overrides: Record<string, unknown>[] },
): SweepCell[] {
  if (!configs.length) throw new Error('a sweep needs at least one experiment file');
  if (!o.budget.minutes && !o.budget.epochs) throw new Error('a sweep needs a budget: --time MINUTES or --epochs N');
  const names = new Map<string, string>();
  for (const c of configs) {
    const n = configName(c.file);
    if (names.has(n)) throw new Error(`two experiment files are both named ${n}: ${names.get(n)} and ${c.file}`);
    names.set(n, c.file);
  }
  const cells: SweepCell[] = [];
  for (const c of configs) {
    let base: ExperimentInput = c.exp;
    for (const over of o.overrides) base = mergeSettings(base, over);
    const { name: _name, ...settings } = base;
    for (let seed = 0; seed < o.seeds; seed++) {
      // The sweep's budget and seed win over the file's: the cells differ only in what the configs are about.
      const budget = { ...settings.budget, ...o.budget };
      if (o.budget.minutes !== undefined && o.budget.epochs === undefined) budget.epochs = 1000; // time decides
      const request: ExperimentInput = { ...settings, budget, seed };
      const config = configName(c.file);
      const key = crypto.createHash('sha256').update(canonical({ config, request })).digest('hex').slice(0, 32);
      cells.push({ index: cells.length, config, file: c.file, seed, request, key, runName: `${config} seed ${seed}` });
    }
  }
  return cells;
}
