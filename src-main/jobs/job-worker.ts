/**
 * Child-process entry for the work that runs onnxruntime (see job-process.ts for why): training,
 * pseudo-labeling, a run's evaluation and a run's export. It waits for its job, opens its own connection to the
 * project file, runs the job with a context whose progress is sent back, and stops when told to. When the app
 * goes away (its IPC channel closes), it stops too: a training nobody can see or cancel must not go on.
 */
import { StarlingError, withProjectFile } from '../errors.js';
import { ProjectStore } from '../store/project.js';
import type { JobContext } from '../util/job-context.js';
import { runHere, type WorkerJob } from './job-process.js';

export type ToJobWorker = { type: 'start'; projectFile: string; job: WorkerJob } | { type: 'cancel' };
export type FromJobWorker =
  | { type: 'progress'; done: number; total: number; message?: string; etaAtMost?: number }
  | { type: 'run'; runId: number }
  | { type: 'log'; line: string }
  | { type: 'done'; result: unknown }
  | { type: 'error'; code?: string; message: string };

const controller = new AbortController();
const post = (m: FromJobWorker) => process.send!(m);

const ctx: JobContext = {
  signal: controller.signal,
  progress: (done, total, message, etaAtMost) =>
    post({
      type: 'progress',
      done,
      total,
      ...(message ? { message } : {}),
      ...(etaAtMost !== undefined ? { etaAtMost } : {}),
    }),
  throwIfCancelled: () => {
    if (controller.signal.aborted) throw new StarlingError('CANCELLED', 'cancelled');
  },
  log: (line) => post({ type: 'log', line }),
};

async function run(projectFile: string, job: WorkerJob): Promise<void> {
  const store = ProjectStore.open(projectFile);
  let last: FromJobWorker;
  try {
    last = { type: 'done', result: await runHere(store, job, ctx, (runId) => post({ type: 'run', runId })) };
  } catch (thrown) {
    const e = withProjectFile(thrown, projectFile);
    last = { type: 'error', message: (e as Error).message, ...(e instanceof StarlingError ? { code: e.code } : {}) };
  } finally {
    store.close();
  }
  // Exits once the last message is handed to the channel (the loader's worker thread would keep it alive).
  process.send!(last, () => process.exit(0));
}

process.on('disconnect', () => process.exit(1));
// Ctrl+C in a terminal signals the whole process group: the app decides (it cancels the job, which then saves
// its checkpoint and marks its run cancelled), so the job must not die of it first.
process.on('SIGINT', () => {});
process.on('message', (m: ToJobWorker) => {
  if (m.type === 'cancel') controller.abort();
  else if (m.type === 'start') void run(m.projectFile, m.job);
});
