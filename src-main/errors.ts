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
