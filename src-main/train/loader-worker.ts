/**
 * The loader's worker thread. onnxruntime-node's `run` holds the JS thread for the whole step, so work queued
 * from the main thread (each sample is several sharp calls, each needing the event loop) would stall until the
 * step ends; here decoding and augmentation go on beside the step. Batches are produced on credit: the main
 * thread grants `ahead` batches, then one per batch consumed, so memory stays bounded.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Source } from './augment.js';
import { Loader, type Batch, type LoaderOptions } from './loader.js';

export type ToWorker = { type: 'start'; epoch: number; epochs?: number; ahead: number } | { type: 'pull' };
export type FromWorker =
  | { type: 'batch'; epoch: number; batch: Batch }
  | { type: 'end'; epoch: number }
  | { type: 'bad'; file: string; problem: string }
  | { type: 'error'; message: string };

const port = parentPort!;
const { sources, options } = workerData as { sources: Source[]; options: Omit<LoaderOptions, 'onBadImage'> };
const loader = new Loader(sources, {
  ...options,
  onBadImage: (file, problem) => port.postMessage({ type: 'bad', file, problem } satisfies FromWorker),
});

let iterator: AsyncGenerator<Batch> | null = null;
let epoch = -1;
let credits = 0;
let pumping = false;

async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    while (iterator && credits > 0) {
      const it = iterator;
      const next = await it.next();
      if (it !== iterator) continue; // a new epoch started meanwhile
      if (next.done) {
        port.postMessage({ type: 'end', epoch } satisfies FromWorker);
        iterator = null;
        break;
      }
      credits--;
      const b = next.value;
      port.postMessage({ type: 'batch', epoch, batch: b } satisfies FromWorker, [
        b.images.buffer as ArrayBuffer,
        b.targets.buffer as ArrayBuffer,
      ]);
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
  } finally {
    pumping = false;
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'start') {
    epoch = m.epoch;
    if (m.epochs !== undefined) loader.epochs = m.epochs;
    iterator = loader.epoch(m.epoch);
    credits = m.ahead;
  } else credits++;
  void pump();
});
