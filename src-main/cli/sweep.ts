/**
 * `starling sweep <project> <configs...>`: every experiment file trained under the same budget, split, seeds and
 * overrides, every run evaluated on val and test by the one evaluator (latency measured on this machine), and
 * one table of means and spreads over seeds (sweep/plan.ts, sweep/table.ts). Resumable: each run carries its
 * cell, so a sweep started again skips the cells it has, resumes a cell that was cut off, and trains the rest.
 *
 * Where one machine is not enough, `--emit slurm|ray|commands` writes the same sweep as jobs for an engine that
 * exists (a Slurm array, Ray tasks, or one command per line for GNU parallel): each job runs `--cell K` of the
 * same plan against the shared project folder (SQLite in WAL mode, one transaction per write, so processes
 * training into one project merge their runs into its leaderboard), and `--table` prints the result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { call } from '../api/dispatch.js';
import type { Session } from '../api/session.js';
import { contract } from '../api/contract.js';
import { parseAssignment } from '../settings/experiment-file.js';
import { describeIssues } from '../util/issues.js';
import { planSweep, type SweepCell } from '../sweep/plan.js';
import { sweepCsv, sweepMarkdown, sweepRows } from '../sweep/table.js';
import { readExperimentFile } from './experiment-arg.js';
import { follow } from './follow.js';
import { withProject } from './with-session.js';

interface SweepOptions {
  seeds: number;
  time?: number;
  epochs?: number;
  set?: string[];
  cell?: number;
  table?: boolean;
  emit?: 'slurm' | 'ray' | 'commands';
  out?: string;
  csv?: string;
}

const wholeNumber = (flag: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${flag} takes a whole number of at least ${min}`);
  return n;
};

const say = (line: string) => process.stderr.write(line + '\n');

/** Trains one cell, or resumes its run, or leaves it: what the project already has for it decides. */
async function runCell(s: Session, cell: SweepCell, total: number): Promise<number | null> {
  const tag = `cell ${cell.index + 1}/${total} (${cell.runName})`;
  const mine = (await call(s, 'runs.list', {})).filter(
    (r) => (r.summary as { experiment?: { key: string } } | null)?.experiment?.key === cell.key,
  );
  const done = mine.find((r) => r.status === 'done' && r.artifacts.best && fs.existsSync(r.artifacts.best));
  let runId: number;
  if (done) {
    say(`${tag}: have run ${done.id}`);
    runId = done.id;
  } else if (mine.some((r) => r.status === 'running')) {
    say(`${tag}: run ${mine.find((r) => r.status === 'running')!.id} is being trained by another process; skipped`);
    return null;
  } else {
    const cut = mine.find((r) => r.status === 'cancelled' || r.status === 'failed');
    say(cut ? `${tag}: resuming run ${cut.id} (${cut.status})` : `${tag}: training`);
    const { jobId } = await call(
      s,
      'train.start',
      cut
        ? { resume: cut.id }
        : { ...cell.request, name: cell.runName, experiment: { name: cell.config, key: cell.key } },
    );
    const stop = () => void s.jobs.cancel(jobId);
    process.once('SIGINT', stop);
    try {
      runId = ((await follow(s, jobId)).result as { runId: number }).runId;
    } finally {
      process.off('SIGINT', stop);
    }
  }
  // Both splits, by the one evaluator; a fresh evaluation is kept (the run's own, made as it finished).
  for (const split of ['val', 'test'] as const) {
    const board = await call(s, 'runs.leaderboard', { split });
    if (!board.images) continue; // no labeled images there: the table leaves that split out
    const row = board.rows.find((r) => r.runId === runId);
    if (row?.evaluation && !row.stale) continue;
    say(`${tag}: evaluating run ${runId} on ${split}`);
    await call(s, 'runs.evaluate', { id: runId, split });
  }
  return runId;
}

/**
 * The same sweep as jobs. `commands` (one machine: GNU parallel, a queue) runs every cell against the project
 * itself. A cluster's tasks (`slurm`, `ray`) each train in a copy of their own (`<project>.nodes/task-K`, its run
 * folders left out), since SQLite must not be shared between machines; `starling merge-runs` brings them back.
 */
function emitJobs(kind: 'slurm' | 'ray' | 'commands', project: string, files: string[], o: SweepOptions, n: number) {
  const q = (x: string) => (/^[\w@%+=:,./-]+$/.test(x) ? x : `'${x.replace(/'/g, `'\\''`)}'`);
  const home = path.resolve(project.endsWith('.starling') ? path.dirname(project) : project);
  const nodes = `${home}.nodes`;
  const sweepOf = (p: string) => [
    'starling',
    'sweep',
    p,
    ...files.map((f) => path.resolve(f)),
    '--seeds',
    String(o.seeds),
    ...(o.time !== undefined ? ['--time', String(o.time)] : []),
    ...(o.epochs !== undefined ? ['--epochs', String(o.epochs)] : []),
    ...(o.set ?? []).flatMap((a) => ['--set', a]),
  ];
  const cmd = sweepOf(home).map(q).join(' ');
  const table = `${cmd} --table`;
  const merge = `starling merge-runs ${q(home)} ${q(nodes)}/task-*`;
  if (kind === 'commands')
    return (
      Array.from({ length: n }, (_, i) => `${cmd} --cell ${i}`).join('\n') +
      `\n# then, when every job has finished: ${table}\n`
    );
  if (kind === 'slurm') {
    // A time budget per cell plus evaluation and start-up; Slurm's --time is the wall clock per array task. An
    // epoch budget has no known length: the cluster's default limit applies unless the user sets one.
    const limit =
      o.time !== undefined
        ? `#SBATCH --time=${Math.ceil(o.time * 1.5 + 10)}`
        : '# (an epoch budget: add #SBATCH --time=MINUTES for your cluster)';
    return [
      '#!/bin/bash',
      `# The Starling sweep of ${files.length} config(s) x ${o.seeds} seed(s), one cell per array task.`,
      '# Each task trains in its own copy of the project (SQLite must not be shared between machines), made',
      `# under ${nodes}/ on the shared file system; merge them back when all are done.`,
      '#SBATCH --job-name=starling-sweep',
      `#SBATCH --array=0-${n - 1}`,
      '#SBATCH --cpus-per-task=2',
      limit,
      '#SBATCH --output=starling-sweep-%A_%a.log',
      'set -euo pipefail',
      `COPY=${q(nodes)}/task-"$SLURM_ARRAY_TASK_ID"`,
      'mkdir -p "$COPY"',
      `rsync -a --exclude=/runs/ ${q(home)}/ "$COPY"/`,
      `${sweepOf('"$COPY"')
        .map((a) => (a === '"$COPY"' ? a : q(a)))
        .join(' ')} --cell "$SLURM_ARRAY_TASK_ID"`,
      `# then: ${merge} && ${table}`,
      '',
    ].join('\n');
  }
  return [
    `# The Starling sweep of ${files.length} config(s) x ${o.seeds} seed(s) as Ray tasks, one per cell.`,
    '# Run it on the cluster: python sweep_ray.py (every node sees the project folder at the same path). Each task',
    '# trains in its own copy of the project (SQLite must not be shared between machines); they are merged back.',
    'import glob, shlex, shutil, subprocess',
    'import ray',
    '',
    'ray.init(address="auto")',
    `HOME, NODES = ${JSON.stringify(home)}, ${JSON.stringify(nodes)}`,
    `CMD = shlex.split(${JSON.stringify(sweepOf('COPY').map(q).join(' '))})`,
    '',
    '@ray.remote(num_cpus=2)',
    'def cell(i):',
    '    copy = f"{NODES}/task-{i}"',
    '    shutil.copytree(HOME, copy, ignore=lambda d, names: ["runs"] if d == HOME else [], dirs_exist_ok=True)',
    '    cmd = [copy if a == "COPY" else a for a in CMD]',
    '    return subprocess.run(cmd + ["--cell", str(i)], check=True).returncode',
    '',
    `ray.get([cell.remote(i) for i in range(${n})])`,
    'subprocess.run(["starling", "merge-runs", HOME, *sorted(glob.glob(f"{NODES}/task-*"))], check=True)',
    `subprocess.run(shlex.split(${JSON.stringify(table)}), check=True)`,
    '',
  ].join('\n');
}

export function addSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description(
      'train every experiment file under the same budget, split and seeds, evaluate each run on val and test, ' +
        'and print one table (mean ± spread over seeds); resumable',
    )
    .argument('<project>', 'project folder or .starling file')
    .argument('<configs...>', 'experiment files (YAML), e.g. resources/configs/*.yaml')
    .option('--seeds <n>', 'seeds per config (0 ... n-1)', wholeNumber('--seeds', 1), 3)
    .option('--time <minutes>', 'wall-clock training budget per run', (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError('--time takes minutes > 0');
      return n;
    })
    .option(
      '--epochs <n>',
      'epochs per run (with --time: the schedule before it is refitted)',
      wholeNumber('--epochs', 1),
    )
    .option(
      '--set <key=value>',
      'override a setting in every config (repeat; e.g. data.imgsz=320)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--cell <k>', 'run only cell k of the plan (one job of a cluster array)', wholeNumber('--cell', 0))
    .option('--table', 'train nothing: print the table of the runs the sweep has')
    .addOption(
      new Option('--emit <engine>', 'print the sweep as jobs instead of running it').choices([
        'slurm',
        'ray',
        'commands',
      ]),
    )
    .option('--out <file>', 'also write the table as Markdown')
    .option('--csv <file>', 'also write the table as CSV')
    .action((project: string, files: string[], o: SweepOptions) =>
      withProject(project, async (s) => {
        const overrides = (o.set ?? []).map(parseAssignment);
        const configs = files.map((file) => ({ file, exp: readExperimentFile(file) }));
        const budget = {
          ...(o.time !== undefined ? { minutes: o.time } : {}),
          ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
        };
        const cells = planSweep(configs, { seeds: o.seeds, budget, overrides });
        // Every cell's request is checked by the API's schema, zoo names included, before anything trains: a
        // typo fails now, not at cell 14 of 15.
        for (const c of cells) {
          const r = contract['train.start'].input.safeParse(c.request);
          if (!r.success)
            throw new Error(`${c.file}${o.set?.length ? ' (with --set)' : ''}: ${describeIssues(r.error)}`);
        }
        if (o.emit) return void process.stdout.write(emitJobs(o.emit, project, files, o, cells.length));
        if (o.cell !== undefined && o.cell >= cells.length)
          throw new Error(`--cell ${o.cell}: the plan has cells 0-${cells.length - 1}`);
        const failed: string[] = [];
        if (!o.table) {
          say(`sweep: ${configs.length} config(s) x ${o.seeds} seed(s) = ${cells.length} run(s)`);
          for (const c of o.cell !== undefined ? [cells[o.cell]!] : cells) {
            try {
              await runCell(s, c, cells.length);
            } catch (e) {
              if ((e as { code?: string }).code === 'CANCELLED') throw e;
              failed.push(`${c.runName}: ${(e as Error).message}`);
              say(`cell ${c.index + 1}/${cells.length} (${c.runName}) failed: ${(e as Error).message}`);
            }
          }
        }
        const keys = new Set(cells.map((c) => c.key));
        const [val, test] = await Promise.all([
          call(s, 'runs.leaderboard', { split: 'val' }),
          call(s, 'runs.leaderboard', { split: 'test' }),
        ]);
        const rows = sweepRows(val, test, (r) => r.status === 'done' && !!r.experiment && keys.has(r.experiment.key));
        const have = rows.reduce((n, r) => n + r.runs.length, 0);
        const machine = val.rows.find((r) => r.evaluation)?.evaluation?.latency.machine;
        process.stdout.write(
          `sweep: ${have} of ${cells.length} run(s) done; budget ${o.time !== undefined ? `${o.time} min` : `${o.epochs} epochs`} per run, ` +
            `seeds 0-${o.seeds - 1}; val ${val.images} / test ${test.images} labeled images` +
            (machine ? `; latency on ${machine}` : '') +
            '\n' +
            sweepMarkdown(rows),
        );
        if (o.out) fs.writeFileSync(o.out, sweepMarkdown(rows));
        if (o.csv) fs.writeFileSync(o.csv, sweepCsv(rows));
        if (failed.length) throw new Error(`${failed.length} cell(s) failed:\n  ${failed.join('\n  ')}`);
      }),
    );
}
