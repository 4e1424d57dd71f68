/** Error codes every transport understands. The message is a one-line reason a user can act on. */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NO_PROJECT'
  | 'NOT_A_PROJECT'
  | 'IO'
  | 'FORMAT'
  | 'CANCELLED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TOO_LARGE'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL';

export class StarlingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'StarlingError';
  }
}

export function isStarlingError(e: unknown): e is StarlingError {
  return e instanceof StarlingError;
}

/** The one-line message of any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * SQLite's own errors name no file ("database is locked"): said again with the project file and what to do.
 * Anything else is returned as it is.
 */
export function withProjectFile(e: unknown, file: string | undefined): unknown {
  const code = (e as { code?: unknown })?.code;
  if (!file || typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return new StarlingError(
      'CONFLICT',
      `${file}: the project is busy: another process or job held its write lock for more than 5 s (${errorMessage(e)}); nothing was changed, try again`,
    );
  if (code === 'SQLITE_FULL')
    return new StarlingError('IO', `${file}: the disk is full (${errorMessage(e)}); nothing was changed`);
  return new StarlingError('IO', `${file}: ${errorMessage(e)} (${code})`);
}
