/**
 * The jobs that run onnxruntime (training, pseudo-labeling, a run's evaluation, an export and its check) run in
 * a child process of their own:
 *   - off the main thread, because onnxruntime-node's `session.run` holds the JS thread for the whole call (a
 *     238 ms training step let no timer through), which froze everything else the process serves for up to a
 *     second at a time: browser-mode API calls (annotation saves, gallery pages, thumbnails) and, in the desktop
 *     app, IPC;
 *   - in a process rather than a worker thread, because a worker lives in the app's address space: a native
 *     abort in onnxruntime, an out-of-memory kill, or even a worker torn down while a native call is in flight
 *     takes the whole app down. A job process that dies only fails its job; its run is marked failed here, to be
 *     resumed.
 * The job process opens its own connection to the project file (SQLite WAL): reads never wait; writes take
 * turns, each store write transaction beginning IMMEDIATE and waiting for the other's (the job's are one short
 * transaction per epoch or per chunk of images).
 *
 * Where no entry is found (util/worker-entry.ts), the job runs in-thread; STARLING_JOB_PROCESS=0 forces that
 * (the responsiveness benchmark compares both).
 */

import { StarlingError, type ErrorCode } from '../errors.js';
import { exportModel, type ExportModelOptions, type ExportModelResult } from '../export/export-model.js';
import type { ProjectStore } from '../store/project.js';
import { runPseudoLabel, type PseudoLabelRequest, type PseudoLabelResult } from '../teachers/pseudo-label.js';
import { runTraining, type TrainRequest } from '../train/train-job.js';
import { evaluateRun, type RunEvaluation } from '../eval/run-evaluation.js';
import { startChild } from '../util/worker-entry.js';
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

/** Starts the job process: `startChild`, or a test's wrapper around it (to kill the process midway). */
export type StartJobProcess = typeof startChild;

export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'train' },
  ctx: JobContext,
  start?: StartJobProcess,
): Promise<TrainResult>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'pseudo-label' },
  ctx: JobContext,
  start?: StartJobProcess,
): Promise<PseudoLabelResult>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'evaluate' },
  ctx: JobContext,
  start?: StartJobProcess,
): Promise<RunEvaluation>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob & { kind: 'export' },
  ctx: JobContext,
  start?: StartJobProcess,
): Promise<ExportModelResult>;
export function runJob(
  store: ProjectStore,
  job: WorkerJob,
  ctx: JobContext,
  start: StartJobProcess = startChild,
): Promise<unknown> {
  const child = process.env.STARLING_JOB_PROCESS === '0' ? null : start(import.meta.url, 'job-worker');
  if (!child) return runHere(store, job, ctx);
  const send = (m: ToJobWorker) => {
    if (child.connected) child.send(m);
  };
  return new Promise((resolve, reject) => {
    const cancel = () => send({ type: 'cancel' });
    ctx.signal.addEventListener('abort', cancel, { once: true });
    let settled = false;
    let runId: number | null = null;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', cancel);
      f();
    };
    /** A process that died (crash, out of memory, killed) could not mark its run: do it here, so it can be resumed. */
    const died = (e: Error) =>
      finish(() => {
        if (runId !== null && store.runs.get(runId).status === 'running')
          store.runs.update(runId, { status: 'failed', summary: { error: e.message } });
        reject(e);
      });
    child.on('message', (m: FromJobWorker) => {
      if (m.type === 'progress') ctx.progress(m.done, m.total, m.message, m.etaAtMost);
      else if (m.type === 'run') runId = m.runId;
      else if (m.type === 'log') ctx.log?.(m.line);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else finish(() => reject(m.code ? new StarlingError(m.code as ErrorCode, m.message) : new Error(m.message)));
    });
    child.on('error', died);
    // Dead once it has exited and its channel has closed: the channel delivers every message sent before the
    // exit first, so a result sent just before exiting wins. ('close' would also wait for the channel, but never
    // comes when this end closed it.)
    let exit: string | null = null;
    let disconnected = false;
    const maybeDied = () => {
      if (exit !== null && disconnected)
        died(new Error(`the ${job.kind} worker process stopped (${exit}) before reporting a result`));
    };
    child.on('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `exit code ${code}`;
      maybeDied();
    });
    child.on('disconnect', () => {
      disconnected = true;
      maybeDied();
    });
    send({ type: 'start', projectFile: store.file, job });
  });
}
