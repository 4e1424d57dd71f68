import { randomUUID } from 'node:crypto';
import { StarlingError, errorMessage } from '../errors.js';
import type { JobContext } from '../util/job-context.js';

/** A job as the API reports it. */
export interface JobInfo {
  id: string;
  kind: string;
  label: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  message?: string;
  /** Items per second over the recent window. */
  rate?: number;
  /** Seconds left at the current rate. */
  eta?: number;
  startedAt: number;
  finishedAt?: number;
  error?: { code: string; message: string; details?: unknown };
  result?: unknown;
}

export type JobListener = (event: 'job.progress' | 'job.finished' | 'job.log', job: JobInfo, line?: string) => void;

interface Running {
  info: JobInfo;
  controller: AbortController;
  promise: Promise<unknown>;
  /** (time, done) samples for a rate over the last few seconds. */
  samples: [number, number][];
  lastEmit: number;
}

const RATE_WINDOW_MS = 5000;
const EMIT_INTERVAL_MS = 100;

/**
 * Runs long work (imports, sample generation, training, pseudo-labeling) off the request path:
 * progress events with rate and ETA, cancel through an AbortSignal, results kept for later look-up.
 */
export class JobManager {
  private readonly jobs = new Map<string, Running>();
  private readonly listeners = new Set<JobListener>();

  /** `explain` rewrites a failure before it is reported (the session names the project file in SQLite's errors). */
  constructor(private readonly explain: (e: unknown) => unknown = (e) => e) {}

  onEvent(l: JobListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  start<T>(kind: string, label: string, run: (ctx: JobContext) => Promise<T>): JobInfo {
    const controller = new AbortController();
    const info: JobInfo = {
      id: randomUUID(),
      kind,
      label,
      status: 'running',
      done: 0,
      total: 0,
      startedAt: Date.now(),
    };
    const entry: Running = { info, controller, promise: Promise.resolve(), samples: [], lastEmit: 0 };
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (done, total, message, etaAtMost) => this.progress(entry, done, total, message, etaAtMost),
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new StarlingError('CANCELLED', `${label}: cancelled`);
      },
      log: (line) => this.emit('job.log', info, line),
    };
    this.jobs.set(info.id, entry);
    entry.promise = (async () => {
      try {
        const result = await run(ctx);
        info.result = result;
        info.status = controller.signal.aborted ? 'cancelled' : 'done';
        return result;
      } catch (thrown) {
        const e = this.explain(thrown);
        const cancelled = controller.signal.aborted || (e instanceof StarlingError && e.code === 'CANCELLED');
        info.status = cancelled ? 'cancelled' : 'failed';
        info.error =
          e instanceof StarlingError
            ? { code: e.code, message: e.message, details: e.details }
            : { code: 'INTERNAL', message: errorMessage(e) };
        return undefined;
      } finally {
        info.finishedAt = Date.now();
        info.eta = 0;
        this.emit('job.finished', info);
      }
    })();
    this.emit('job.progress', info);
    return { ...info };
  }

  private progress(entry: Running, done: number, total: number, message?: string, etaAtMost?: number): void {
    const { info } = entry;
    const now = Date.now();
    info.done = done;
    info.total = total;
    if (message !== undefined) info.message = message;
    entry.samples.push([now, done]);
    while (entry.samples.length > 2 && now - entry.samples[0]![0] > RATE_WINDOW_MS) entry.samples.shift();
    const [t0, d0] = entry.samples[0]!;
    if (now > t0 && done > d0) {
      info.rate = ((done - d0) * 1000) / (now - t0);
      info.eta = total > done ? (total - done) / info.rate : 0;
    }
    if (etaAtMost !== undefined && info.eta !== undefined) info.eta = Math.max(0, Math.min(info.eta, etaAtMost));
    // Throttle events; always emit the last unit so bars reach 100%.
    if (now - entry.lastEmit >= EMIT_INTERVAL_MS || done >= total) {
      entry.lastEmit = now;
      this.emit('job.progress', info);
    }
  }

  private emit(event: 'job.progress' | 'job.finished' | 'job.log', info: JobInfo, line?: string): void {
    const snapshot = { ...info };
    for (const l of this.listeners) l(event, snapshot, line);
  }

  get(id: string): JobInfo {
    const entry = this.jobs.get(id);
    if (!entry) throw new StarlingError('NOT_FOUND', `job ${id} does not exist`);
    return { ...entry.info };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => ({ ...e.info }));
  }

  cancel(id: string): JobInfo {
    const entry = this.jobs.get(id);
    if (!entry) throw new StarlingError('NOT_FOUND', `job ${id} does not exist`);
    entry.controller.abort();
    return { ...entry.info };
  }

  /** Resolves when the job ends, with its final info (never rejects). */
  async wait(id: string): Promise<JobInfo> {
    const entry = this.jobs.get(id);
    if (!entry) throw new StarlingError('NOT_FOUND', `job ${id} does not exist`);
    await entry.promise;
    return { ...entry.info };
  }

  /** Cancels every running job and waits for them: on shutdown. */
  async shutdown(): Promise<void> {
    const running = [...this.jobs.values()].filter((e) => e.info.status === 'running');
    for (const e of running) e.controller.abort();
    await Promise.all(running.map((e) => e.promise));
  }
}
