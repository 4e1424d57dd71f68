/** What long work sees while it runs (a job, or work answered as one call): its cancel signal and progress. */
export interface JobContext {
  signal: AbortSignal;
  /**
   * `etaAtMost`: seconds the work cannot outlast whatever the rate says (a time budget's remaining seconds); the
   * ETA is capped by it. A budgeted training's last epoch is cut short, so done/total alone overstates it.
   */
  progress(done: number, total: number, message?: string, etaAtMost?: number): void;
  /** Throws a CANCELLED error if the job was cancelled: call between units of work. */
  throwIfCancelled(): void;
  /** A line worth keeping in a log (an epoch's summary), beside the progress that replaces itself. */
  log?(line: string): void;
}

/** The context of work that is not a cancellable job (a run's evaluation or export, answered as one API call). */
export const UNCANCELLABLE: JobContext = {
  signal: new AbortController().signal,
  progress: () => {},
  throwIfCancelled: () => {},
};
