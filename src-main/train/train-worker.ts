/**
 * Worker-thread entry for a training job (see threaded-training.ts for why). It opens its own connection to the
 * project file, runs `runTraining` with a job context whose progress is posted back, and stops when told to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StarlingError } from '../errors.js';
import { ProjectStore } from '../store/project.js';
import { runTraining, type TrainRequest } from './train-job.js';

export type ToTrainWorker = { type: 'cancel' };
export type FromTrainWorker =
  | { type: 'progress'; done: number; total: number; message?: string }
  | { type: 'done'; result: Awaited<ReturnType<typeof runTraining>> }
  | { type: 'error'; code?: string; message: string };

const { projectFile, req } = workerData as { projectFile: string; req: TrainRequest };
const port = parentPort!;
const controller = new AbortController();
port.on('message', (m: ToTrainWorker) => {
  if (m.type === 'cancel') controller.abort();
});
const post = (m: FromTrainWorker) => port.postMessage(m);

const store = ProjectStore.open(projectFile);
try {
  const result = await runTraining(store, req, {
    signal: controller.signal,
    progress: (done, total, message) => post({ type: 'progress', done, total, ...(message ? { message } : {}) }),
    throwIfCancelled: () => {
      if (controller.signal.aborted) throw new StarlingError('CANCELLED', 'cancelled');
    },
  });
  post({ type: 'done', result });
} catch (e) {
  post({
    type: 'error',
    message: (e as Error).message,
    ...(e instanceof StarlingError ? { code: e.code } : {}),
  });
} finally {
  store.close();
  port.close();
}
