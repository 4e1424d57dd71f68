/**
 * Worker-thread entry for the work that runs onnxruntime (see threaded-job.ts for why): training,
 * pseudo-labeling, a run's evaluation and a run's export. It opens its own connection to the project file, runs the job with a context whose progress
 * is posted back, and stops when told to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StarlingError, withProjectFile } from '../errors.js';
import { ProjectStore } from '../store/project.js';
import type { JobContext } from '../util/job-context.js';
import { runHere, type WorkerJob } from './threaded-job.js';

export type ToJobWorker = { type: 'cancel' };
export type FromJobWorker =
  | { type: 'progress'; done: number; total: number; message?: string }
  | { type: 'run'; runId: number }
  | { type: 'log'; line: string }
  | { type: 'done'; result: unknown }
  | { type: 'error'; code?: string; message: string };

const { projectFile, job } = workerData as { projectFile: string; job: WorkerJob };
const port = parentPort!;
const controller = new AbortController();
port.on('message', (m: ToJobWorker) => {
  if (m.type === 'cancel') controller.abort();
});
const post = (m: FromJobWorker) => port.postMessage(m);

const ctx: JobContext = {
  signal: controller.signal,
  progress: (done, total, message) => post({ type: 'progress', done, total, ...(message ? { message } : {}) }),
  throwIfCancelled: () => {
    if (controller.signal.aborted) throw new StarlingError('CANCELLED', 'cancelled');
  },
  log: (line) => post({ type: 'log', line }),
};

const store = ProjectStore.open(projectFile);
try {
  const result = await runHere(store, job, ctx, (runId) => post({ type: 'run', runId }));
  post({ type: 'done', result });
} catch (thrown) {
  const e = withProjectFile(thrown, projectFile);
  post({ type: 'error', message: (e as Error).message, ...(e instanceof StarlingError ? { code: e.code } : {}) });
} finally {
  store.close();
  port.close();
}
