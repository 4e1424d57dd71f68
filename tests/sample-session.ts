import { expect } from 'vitest';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { tempDir } from './helpers.js';

/**
 * A temp folder with its own STARLING_HOME and a session whose open project is a small sample (`<tmp>/proj`),
 * the set-up most integration tests share.
 */
export async function sampleSession(
  seed: number,
  counts: { train: number; pool: number; val: number; test: number },
  sizes: 'coco' | 'log-uniform' = 'coco',
): Promise<{ tmp: ReturnType<typeof tempDir>; session: Session }> {
  const tmp = tempDir();
  process.env.STARLING_HOME = `${tmp.dir}/home`;
  const session = new Session();
  const { jobId } = await call(session, 'sample.create', { dir: `${tmp.dir}/proj`, seed, counts, sizes });
  expect((await session.jobs.wait(jobId)).status).toBe('done');
  return { tmp, session };
}
