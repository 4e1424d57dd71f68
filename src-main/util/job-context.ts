/** What long work sees while it runs (a job, or work answered as one call): its cancel signal and progress. */
export interface JobContext {
  signal: AbortSignal;
  progress(done: number, total: number, message?: string): void;
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
