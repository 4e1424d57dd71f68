import { call } from '../api/dispatch.js';
import { Session } from '../api/session.js';

/** Runs `fn` with a fresh session, disposing it (jobs, database) afterwards. */
export async function withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  const session = new Session();
  try {
    return await fn(session);
  } finally {
    await session.dispose();
  }
}

export const withProject = <T>(project: string, fn: (s: Session) => Promise<T>): Promise<T> =>
  withSession(async (s) => {
    await call(s, 'project.open', { path: project });
    return fn(s);
  });
