/**
 * Training jobs run in a worker thread. onnxruntime-node's `session.run` holds the JS thread for the whole step
 * (a 238 ms step let no timer through), so training on the main thread froze everything else the process
 * serves for up to a second at a time: browser-mode API calls (annotation saves, gallery pages, thumbnails) and,
 * in the desktop app, IPC. The worker opens its own connection to the project file (SQLite WAL with a busy
 * timeout), so runs and epochs are written there while the main thread keeps answering.
 *
 * Where no worker entry is found (util/worker-entry.ts), training runs in-thread as before;
 * STARLING_TRAIN_THREAD=0 forces that (the test of this module compares both).
 */
import { StarlingError, type ErrorCode } from '../errors.js';
import type { JobContext } from '../jobs/manager.js';
import type { ProjectStore } from '../store/project.js';
import { runTraining, type TrainRequest } from './train-job.js';
import type { FromTrainWorker, ToTrainWorker } from './train-worker.js';
import { startWorker } from '../util/worker-entry.js';

export function startTraining(store: ProjectStore, req: TrainRequest, ctx: JobContext): ReturnType<typeof runTraining> {
  const worker =
    process.env.STARLING_TRAIN_THREAD === '0'
      ? null
      : startWorker(import.meta.url, 'train-worker', { projectFile: store.file, req });
  if (!worker) return runTraining(store, req, ctx);
  return new Promise((resolve, reject) => {
    const cancel = () => worker.postMessage({ type: 'cancel' } satisfies ToTrainWorker);
    ctx.signal.addEventListener('abort', cancel, { once: true });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', cancel);
      f();
    };
    worker.on('message', (m: FromTrainWorker) => {
      if (m.type === 'progress') ctx.progress(m.done, m.total, m.message);
      else if (m.type === 'done') finish(() => resolve(m.result));
      else finish(() => reject(m.code ? new StarlingError(m.code as ErrorCode, m.message) : new Error(m.message)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`the training worker stopped (exit code ${code}) before reporting a result`))),
    );
  });
}
