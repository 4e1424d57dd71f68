/**
 * `starling runs`: the runs leaderboard in the terminal, the same `runs.leaderboard` the Runs view shows.
 * `--evaluate` first evaluates every run whose evaluation on the split is missing or stale; `--config N` prints run
 * N's settings as an experiment file that reproduces it.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { runExperimentFile } from '../settings/experiment-file.js';
import { call } from '../api/dispatch.js';
import type { Leaderboard, LeaderboardRow } from '../eval/leaderboard.js';
import { fromLabel } from '../eval/started-from.js';
import { withProject } from './with-session.js';

const num = (x: number | null | undefined, digits: number) => (x === null || x === undefined ? '-' : x.toFixed(digits));

function minutes(seconds: number | null): string {
  if (seconds === null) return '-';
  return seconds < 90 ? `${seconds.toFixed(0)}s` : `${(seconds / 60).toFixed(1)}m`;
}

/** Rows sorted best first (mAP50-95 of the evaluation; unevaluated runs last). */
export function formatLeaderboard(board: Leaderboard): string {
  // Stale evaluations are shown but ranked with the unevaluated runs, as the Runs view does.
  const score = (r: LeaderboardRow) => (r.stale ? -1 : (r.evaluation?.coco.mAP ?? -1));
  const rows = [...board.rows].sort((a, b) => score(b) - score(a));
  const header = [
    'run',
    'model',
    'from',
    'distilled',
    'imgsz',
    'mAP50-95',
    'mAP50',
    'params',
    'GFLOPs',
    'latency',
    'train',
    'epochs',
    '',
  ];
  const table = rows.map((r) => [
    `${r.runId} ${r.name}`,
    `${r.settings.model.model}${r.settings.model.scale} ${r.settings.model.backbone}/${r.settings.model.head}`,
    fromLabel(r.from),
    r.distilledFrom.join('+') || '-',
    String(r.settings.data.imgsz),
    num(r.evaluation?.coco.mAP, 3),
    num(r.evaluation?.coco.mAP50, 3),
    r.parameters === null ? '-' : `${(r.parameters / 1e6).toFixed(2)}M`,
    num(r.gflops, 2),
    r.evaluation
      ? `${r.evaluation.latency.inferenceMs.toFixed(1)} ms${r.evaluation.latency.concurrentJobs?.length ? '*' : ''}`
      : '-',
    minutes(r.trainSeconds),
    r.epochs === null ? '-' : String(r.epochs),
    r.stale
      ? `stale: ${r.stale}`
      : r.evaluation
        ? ''
        : r.hasCheckpoint
          ? 'not evaluated'
          : `no checkpoint (${r.status})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 4 && i <= 11 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const machine = rows.find((r) => r.evaluation)?.evaluation?.latency.machine;
  return (
    `runs on ${board.split} (${board.images} labeled images), one evaluator: COCO mAP of the exported graph\n` +
    [line(header), ...table.map(line)].join('\n') +
    '\n' +
    (machine ? `latency: onnxruntime session.run, batch 1, median of 20, on ${machine}\n` : '') +
    (rows.some((r) => r.evaluation?.latency.concurrentJobs?.length)
      ? '* measured while another job ran: re-evaluate on an idle machine to compare\n'
      : '')
  );
}

export function addRunsCommand(program: Command): void {
  program
    .command('runs')
    .description('the runs leaderboard: every run on one split, same evaluator, with size, latency and train time')
    .argument('<project>', 'project folder or .starling file')
    .addOption(new Option('--split <split>', 'split').choices(['val', 'test']).default('val'))
    .option('--evaluate', 'first evaluate the runs whose evaluation on the split is missing or stale')
    .option('--json', 'print JSON')
    .option('--config <run>', "print a run's settings as an experiment file that reproduces it", (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('--config takes a run id');
      return Number(v);
    })
    .action((project: string, o: { split: 'val' | 'test'; evaluate?: boolean; json?: boolean; config?: number }) =>
      withProject(project, async (s) => {
        if (o.config !== undefined) {
          const run = (await call(s, 'runs.list', {})).find((r) => r.id === o.config);
          if (!run) throw new Error(`${project} has no run ${o.config}`);
          process.stdout.write(runExperimentFile(run, project));
          return;
        }
        let board = await call(s, 'runs.leaderboard', { split: o.split });
        if (o.evaluate) {
          for (const r of board.rows) {
            if (!r.hasCheckpoint || (r.evaluation && !r.stale)) continue;
            if (!o.json) process.stderr.write(`evaluating run ${r.runId} on ${o.split} ...\n`);
            await call(s, 'runs.evaluate', { id: r.runId, split: o.split });
          }
          board = await call(s, 'runs.leaderboard', { split: o.split });
        }
        process.stdout.write(o.json ? JSON.stringify(board, null, 2) + '\n' : formatLeaderboard(board));
      }),
    );
}

/** `starling merge-runs`: a sweep's nodes, each with its own copy of the project, merged back into one. */
export function addMergeRunsCommand(program: Command): void {
  program
    .command('merge-runs')
    .description("merge the finished runs of other copies of this project (a sweep's nodes) into it")
    .argument('<project>', 'project folder or .starling file to merge into')
    .argument('<copies...>', 'the other copies (folders or .starling files)')
    .action((project: string, copies: string[]) =>
      withProject(project, async (s) => {
        for (const from of copies) {
          const r = await call(s, 'runs.merge', { from });
          for (const m of r.merged) process.stdout.write(`${from}: run ${m.from} (${m.name}) -> run ${m.to}\n`);
          for (const k of r.skipped) process.stdout.write(`${from}: run ${k.run} (${k.name}) skipped: ${k.reason}\n`);
          for (const u of r.unmapped)
            process.stderr.write(
              `${from}: run ${u.run} (${u.name}) names ${u.refs.map((n) => `run:${n}`).join(', ')} of that copy, ` +
                'which did not come here (not finished there, or deleted): its settings keep the old id\n',
            );
          process.stdout.write(`${from}: ${r.merged.length} merged, ${r.skipped.length} skipped\n`);
        }
      }),
    );
}
