/**
 * The jobs that run onnxruntime (training, pseudo-labeling, a run's evaluation, an export and its check) run in
 * a worker thread. onnxruntime-node's
 * `session.run` holds the JS thread for the whole call (a 238 ms training step let no timer through), so on the
 * main thread these jobs froze everything else the process serves, for up to a second at a time: browser-mode
 * API calls (annotation saves, gallery pages, thumbnails) and, in the desktop app, IPC. The worker opens its own
 * connection to the project file (SQLite WAL): reads never wait; writes take turns, each store write
 * transaction beginning IMMEDIATE and waiting for the other's (the job's are one short transaction per epoch
 * or per chunk of images).
 *
 * Where no worker entry is found (util/worker-entry.ts), the job runs in-thread; STARLING_JOB_THREAD=0 forces
 * that (the responsiveness test compares both).
 */

import { StarlingError, type ErrorCode } from '../errors.js';
import { exportModel, type ExportModelOptions, type ExportModelResult } from '../export/export-model.js';
import type { ProjectStore } from '../store/project.js';
import { runPseudoLabel, type PseudoLabelRequest, type PseudoLabelResult } from '../teachers/pseudo-label.js';
import { runTraining, type TrainRequest } from '../train/train-job.js';
import { evaluateRun, type RunEvaluation } from '../eval/run-evaluation.js';
import { startWorker } from '../util/worker-entry.js';
import type { FromJobWorker, ToJobWorker } from './job-worker.js';
import type { JobContext } from '../util/job-context.js';

export type EvaluateRequest = { runId: number; split: 'val' | 'test'; concurrentJobs: string[] };
export type WorkerJob =
  | { kind: 'train'; req: TrainRequest }
  | { kind: 'pseudo-label'; req: PseudoLabelRequest }
  | { kind: 'evaluate'; req: EvaluateRequest }
  | { kind: 'export'; req: ExportModelOptions };
type TrainResult = Awaited<ReturnType<typeof runTraining>>;

/** Runs the job on this thread: the worker's body, and the fallback where no worker can start. */
export function runHere(
  store: ProjectStore,
  job: WorkerJob,
  ctx: JobContext,
  onRun?: (runId: number) => void,
): Promise<unknown> {
  switch (job.kind) {
    case 'train':
      return runTraining(store, job.req, ctx, onRun);
    case 'pseudo-label':
      return runPseudoLabel(store, job.req, ctx);
    case 'evaluate':
      return evaluateRun(store, job.req.runId, job.req.split, undefined, job.req.concurrentJobs);
    case 'export':
      return exportModel(job.req);
  }
}

/** Starts the worker: `startWorker`, or a test's wrapper around it (to stop the worker midway). */
export type StartJobWorker = typeof startWorker;

export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'train' },
  ctx: JobContext,
  start?: StartJobWorker,
): Promise<TrainResult>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'pseudo-label' },
  ctx: JobContext,
  start?: StartJobWorker,
): Promise<PseudoLabelResult>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'evaluate' },
  ctx: JobContext,
  start?: StartJobWorker,
): Promise<RunEvaluation>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'export' },
  ctx: JobContext,
  start?: StartJobWorker,
): Promise<ExportModelResult>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob,
  ctx: JobContext,
  start: StartJobWorker = startWorker,
): Promise<unknown> {
  const worker =
    process.env.STARLING_JOB_THREAD === '0'
      ? null
      : start(import.meta.url, 'job-worker', { projectFile: store.file, job });
  if (!worker) return runHere(store, job, ctx);
  return new Promise((resolve, reject) => {
    const cancel = () => worker.postMessage({ type: 'cancel' } satisfies ToJobWorker);
    ctx.signal.addEventListener('abort', cancel, { once: true });
    let settled = false;
    let runId: number | null = null;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', cancel);
      f();
    };
    /** A worker that died (crash, out of memory) could not mark its run: do it here, so it can be resumed. */
    const died = (e: Error) =>
      finish(() => {
        if (runId !== null && store.runs.get(runId).status === 'running')
          store.runs.update(runId, { status: 'failed', summary: { error: e.message } });
        reject(e);
      });
    worker.on('message', (m: FromJobWorker) => {
      if (m.type === 'progress') ctx.progress(m.done, m.total, m.message);
      else if (m.type === 'run') runId = m.runId;
      else if (m.type === 'log') ctx.log?.(m.line);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else finish(() => reject(m.code ? new StarlingError(m.code as ErrorCode, m.message) : new Error(m.message)));
    });
    worker.on('error', died);
    worker.on('exit', (code) =>
      died(new Error(`the ${job.kind} worker stopped (exit code ${code}) before reporting a result`)),
    );
  });
}
