/**
 * The sweep table: runs grouped by their config, each figure as the mean and spread (sample standard deviation)
 * over seeds, from the one evaluator's leaderboard on val and on test. Markdown and CSV. Pure: the Runs view
 * groups and exports with it too.
 */
import type { Leaderboard, LeaderboardRow } from '../eval/leaderboard.js';

export interface Stat {
  mean: number;
  sd: number;
  n: number;
}

export interface SweepRow {
  config: string;
  runs: number[];
  valMap: Stat | null;
  valMap50: Stat | null;
  testMap: Stat | null;
  testMap50: Stat | null;
  params: Stat | null;
  gflops: Stat | null;
  latencyMs: Stat | null;
  trainMinutes: Stat | null;
}

export function stat(xs: (number | null | undefined)[]): Stat | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, n: v.length };
}

/** The group a run belongs to: its sweep config, else (a run trained by hand) its name. */
export const groupOf = (r: LeaderboardRow) => r.experiment?.name ?? r.name;

/**
 * One row per config, in the order the configs first appear. `keep` picks the runs (a sweep's cells); test
 * figures come from the test leaderboard when given.
 */
export function sweepRows(
  val: Leaderboard,
  test: Leaderboard | null,
  keep: (r: LeaderboardRow) => boolean,
): SweepRow[] {
  const testById = new Map((test?.rows ?? []).map((r) => [r.runId, r]));
  const fresh = (r: LeaderboardRow | undefined) => (r && !r.stale ? r.evaluation : null);
  const groups = new Map<string, LeaderboardRow[]>();
  for (const r of val.rows.filter(keep)) groups.set(groupOf(r), [...(groups.get(groupOf(r)) ?? []), r]);
  return [...groups].map(([config, rows]) => ({
    config,
    runs: rows.map((r) => r.runId),
    valMap: stat(rows.map((r) => fresh(r)?.coco.mAP)),
    valMap50: stat(rows.map((r) => fresh(r)?.coco.mAP50)),
    testMap: stat(rows.map((r) => fresh(testById.get(r.runId))?.coco.mAP)),
    testMap50: stat(rows.map((r) => fresh(testById.get(r.runId))?.coco.mAP50)),
    params: stat(rows.map((r) => r.parameters)),
    gflops: stat(rows.map((r) => r.gflops)),
    latencyMs: stat(rows.map((r) => fresh(r)?.latency.inferenceMs)),
    trainMinutes: stat(rows.map((r) => (r.trainSeconds === null ? null : r.trainSeconds / 60))),
  }));
}

const COLUMNS: { title: string; get: (r: SweepRow) => Stat | null; digits: number; scale?: number }[] = [
  { title: 'val mAP50-95', get: (r) => r.valMap, digits: 3 },
  { title: 'val mAP50', get: (r) => r.valMap50, digits: 3 },
  { title: 'test mAP50-95', get: (r) => r.testMap, digits: 3 },
  { title: 'test mAP50', get: (r) => r.testMap50, digits: 3 },
  { title: 'params (M)', get: (r) => r.params, digits: 2, scale: 1e-6 },
  { title: 'GFLOPs', get: (r) => r.gflops, digits: 2 },
  { title: 'latency (ms)', get: (r) => r.latencyMs, digits: 1 },
  { title: 'train (min)', get: (r) => r.trainMinutes, digits: 1 },
];

/** `mean ± sd` (the mean alone for one run), or `missing` when no run has the figure. */
export const formatStat = (s: Stat | null, digits: number, scale = 1, missing = '-') =>
  s === null
    ? missing
    : s.n > 1
      ? `${(s.mean * scale).toFixed(digits)} ± ${(s.sd * scale).toFixed(digits)}`
      : (s.mean * scale).toFixed(digits);

export function sweepMarkdown(rows: SweepRow[]): string {
  const head = ['config', 'runs', ...COLUMNS.map((c) => c.title)];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.map(
      (r) =>
        `| ${[r.config, String(r.runs.length), ...COLUMNS.map((c) => formatStat(c.get(r), c.digits, c.scale))].join(' | ')} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}

/** CSV with the mean and the spread of each figure in their own columns. */
export function sweepCsv(rows: SweepRow[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const head = ['config', 'runs', ...COLUMNS.flatMap((c) => [`${c.title} mean`, `${c.title} sd`])];
  const num = (s: Stat | null, k: 'mean' | 'sd', scale = 1) =>
    s === null ? '' : String(+(s[k] * scale).toPrecision(6));
  return (
    [
      head.map(q).join(','),
      ...rows.map((r) =>
        [
          q(r.config),
          String(r.runs.length),
          ...COLUMNS.flatMap((c) => [num(c.get(r), 'mean', c.scale), num(c.get(r), 'sd', c.scale)]),
        ].join(','),
      ),
    ].join('\n') + '\n'
  );
}
