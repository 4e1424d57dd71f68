/**
 * Paths the user types (browser mode has no native file dialog): what is at a path, said before anything runs,
 * and the rule that a destination folder is never created unless the caller asked for it (the UI asks first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';

export interface PathInfo {
  /** The path made absolute. */
  path: string;
  kind: 'file' | 'folder' | 'other' | null;
  /** Whether the folder it would be created in exists (for a destination). */
  parentExists: boolean;
}

export function pathInfo(p: string): PathInfo {
  const abs = path.resolve(p);
  let kind: PathInfo['kind'] = null;
  try {
    const st = fs.statSync(abs);
    kind = st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
  } catch {
    kind = null;
  }
  return { path: abs, kind, parentExists: fs.existsSync(path.dirname(abs)) };
}

/** Refuses a destination folder that does not exist unless `create` (then it is made). */
export function destinationFolder(dir: string, create: boolean): string {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs)) {
    if (!fs.statSync(abs).isDirectory()) throw new StarlingError('INVALID_INPUT', `${abs}: not a folder`);
    return abs;
  }
  if (!create)
    throw new StarlingError('NOT_FOUND', `${abs}: no such folder (it is created only when asked: createDirs)`);
  fs.mkdirSync(abs, { recursive: true });
  return abs;
}
