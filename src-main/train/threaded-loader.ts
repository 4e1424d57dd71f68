/**
 * The loader run in a worker thread (see loader-worker.ts for why), behind the same interface as `Loader`:
 * `batchesPerEpoch`, `epochs` and `epoch(e)`. Batches arrive as transferred buffers, so nothing is copied.
 * Where no worker entry can be found (util/worker-entry.ts), `createLoader` falls back to the in-thread `Loader`.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../util/worker-entry.js';
import type { Source } from './augment.js';
import { Loader, type Batch, type LoaderOptions } from './loader.js';
import type { FromWorker, ToWorker } from './loader-worker.js';

export interface BatchSource {
  readonly batchesPerEpoch: number;
  epochs: number | undefined;
  epoch(epoch: number): AsyncGenerator<Batch>;
  close(): Promise<void>;
}

export class ThreadedLoader implements BatchSource {
  readonly batchesPerEpoch: number;
  epochs: number | undefined;
  private readonly worker: Worker;
  private readonly inbox: FromWorker[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private closing = false;

  constructor(
    sources: readonly Source[],
    private readonly o: LoaderOptions,
    worker: Worker,
  ) {
    if (!sources.length) throw new Error('no labeled images to train on');
    this.batchesPerEpoch = Math.ceil(sources.length / o.batch);
    this.epochs = o.epochs;
    this.worker = worker;
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'bad') this.o.onBadImage?.(m.file, m.problem);
      else this.push(m);
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      this.push({ type: 'error', message: e.message });
    });
    // A worker that exits without an error event (killed, crashed natively) must not leave an epoch waiting.
    this.worker.on('exit', (code) => {
      if (this.closing || this.failure) return;
      this.failure = new Error(`data loader: its worker thread stopped (exit code ${code})`);
      this.push({ type: 'error', message: this.failure.message });
    });
  }

  private push(m: FromWorker): void {
    this.inbox.push(m);
    this.wake?.();
  }

  private async receive(): Promise<FromWorker> {
    while (!this.inbox.length) await new Promise<void>((r) => (this.wake = r));
    this.wake = null;
    return this.inbox.shift()!;
  }

  async *epoch(epoch: number): AsyncGenerator<Batch> {
    if (this.failure) throw this.failure;
    this.inbox.length = 0;
    this.post({ type: 'start', epoch, ...(this.epochs !== undefined ? { epochs: this.epochs } : {}), ahead: 3 });
    for (;;) {
      const m = await this.receive();
      if (m.type === 'error') throw new Error(`data loader: ${m.message}`);
      if (m.type === 'end') return;
      if (m.type !== 'batch' || m.epoch !== epoch) continue;
      yield m.batch;
      this.post({ type: 'pull' });
    }
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

class InThreadLoader extends Loader implements BatchSource {
  async close(): Promise<void> {}
}

/** A worker-thread loader when its entry can be found (util/worker-entry.ts), else the in-thread loader. */
export function createLoader(sources: readonly Source[], o: LoaderOptions): BatchSource {
  const { onBadImage: _onBad, ...options } = o;
  const worker =
    process.env.STARLING_LOADER_THREAD === '0' || !sources.length
      ? null
      : startWorker(import.meta.url, 'loader-worker', { sources, options });
  return worker ? new ThreadedLoader(sources, o, worker) : new InThreadLoader(sources, o);
}
