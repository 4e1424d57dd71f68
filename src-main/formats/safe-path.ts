import path from 'node:path';
import fs from 'node:fs';
import { realInside, realPath } from '../util/files.js';

/**
 * Resolves a path written inside a label file against the dataset root and refuses anything that escapes it
 * (`../`, absolute paths, drive letters, and a symlink whose real path lies outside the root's real path).
 * Returns the absolute path or an error message.
 */
export function resolveInside(
  root: string,
  written: string,
): { ok: true; path: string } | { ok: false; problem: string } {
  if (written.includes('\0')) return { ok: false, problem: `path contains a NUL byte` };
  const normalized = written.replace(/\\/g, '/');
  if (path.isAbsolute(written) || /^[a-zA-Z]:\//.test(normalized) || normalized.startsWith('/')) {
    return { ok: false, problem: `path "${written}" is absolute; it must be relative to the dataset root ${root}` };
  }
  const abs = path.resolve(root, ...normalized.split('/'));
  const rel = path.relative(root, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    return { ok: false, problem: `path "${written}" escapes the dataset root ${root}` };
  }
  if (fs.existsSync(abs) && !realInside(root, abs))
    return { ok: false, problem: `path "${written}" is a link to ${realPath(abs)}, outside the dataset root ${root}` };
  return { ok: true, path: abs };
}

/** Strict UTF-8 decoding: returns null when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
