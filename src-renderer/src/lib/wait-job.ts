/** Waits for a job to end (done, failed or cancelled) through the job events, without polling. */
import type { JobInfo } from '../../../src-main/jobs/manager';
import { api } from './api';

export function waitJob(jobId: string): Promise<JobInfo> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (j: JobInfo) => {
      if (settled) return;
      settled = true;
      off();
      resolve(j);
    };
    const off = api.on('job.finished', (j) => {
      if (j.id === jobId) finish(j);
    });
    // It may have ended before the listener was in place.
    void api.call('jobs.get', { id: jobId }).then((j) => {
      if (j.status !== 'running') finish(j);
    });
  });
}
