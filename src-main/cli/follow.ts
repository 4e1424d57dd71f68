import type { JobInfo } from '../api/contract.js';
import type { Session } from '../api/session.js';
import { StarlingError, type ErrorCode } from '../errors.js';
import { ProgressBar } from './progress.js';

/** Waits for a job, showing its progress and log lines; throws its error so the CLI exits non-zero. */
export async function follow(session: Session, jobId: string): Promise<JobInfo> {
  const bar = new ProgressBar();
  const off = session.onEvent((e) => {
    if (e.event === 'job.progress' && (e.data as JobInfo).id === jobId) bar.update(e.data as JobInfo);
    else if (e.event === 'job.log' && (e.data as { id: string }).id === jobId)
      bar.log((e.data as { line: string }).line);
  });
  const job = await session.jobs.wait(jobId);
  off();
  bar.update(job);
  bar.done();
  if (job.status !== 'done') {
    const err = job.error ?? { code: 'CANCELLED', message: `${job.label}: cancelled` };
    throw new StarlingError(err.code as ErrorCode, err.message, err.details);
  }
  return job;
}
