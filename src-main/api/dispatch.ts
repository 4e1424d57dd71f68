import type { z } from 'zod';
import { StarlingError, errorMessage, withProjectFile } from '../errors.js';
import {
  contract,
  isApiMethod,
  type ApiErrorBody,
  type ApiMethod,
  type ApiOutput,
  type ApiParsedInput,
} from './contract.js';
import { handlers } from './handlers.js';
import { describeIssues } from '../util/issues.js';
import type { Session } from './session.js';

/**
 * The single entry point of every transport: checks the method name, validates the input against
 * the contract and runs the handler. Throws StarlingError with a one-line message.
 */
export async function dispatch(session: Session, method: string, input: unknown): Promise<unknown> {
  if (!isApiMethod(method)) throw new StarlingError('NOT_FOUND', `unknown API method "${method}"`);
  const parsed = contract[method].input.safeParse(input ?? {});
  if (!parsed.success) throw new StarlingError('INVALID_INPUT', `${method}: ${describeIssues(parsed.error)}`);
  const handler = handlers[method] as (s: Session, i: unknown) => Promise<unknown> | unknown;
  try {
    return await handler(session, parsed.data);
  } catch (e) {
    throw withProjectFile(e, session.current?.file);
  }
}

/** Typed in-process call, for the CLI and tests. */
export function call<M extends ApiMethod>(
  session: Session,
  method: M,
  input: z.input<(typeof contract)[M]['input']>,
): Promise<ApiOutput<M>> {
  return dispatch(session, method, input) as Promise<ApiOutput<M>>;
}

export function toErrorBody(e: unknown): ApiErrorBody {
  if (e instanceof StarlingError) return { code: e.code, message: e.message, details: e.details };
  return { code: 'INTERNAL', message: errorMessage(e) };
}

export type Handlers = {
  [M in ApiMethod]: (session: Session, input: ApiParsedInput<M>) => Promise<ApiOutput<M>> | ApiOutput<M>;
};
