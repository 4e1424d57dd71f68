/**
 * Images sent from the browser (browser mode cannot pass a path a file picker chose, only the bytes): saved into
 * the project's `uploads/` folder, then added like any image on disk. A name is a plain file name, never a path;
 * the same name with the same bytes is the same file (uploading twice adds nothing), other bytes get a new name.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { MAX_IMAGE_BYTES, sha256Of, writeFileAtomic } from '../util/files.js';
import { IMAGE_EXTENSIONS, isImageFile } from '../vision/probe.js';

export const UPLOADS_FOLDER = 'uploads';

export interface UploadedFile {
  /** The file's name as the browser gives it (`File.name`). */
  name: string;
  /** Its bytes, base64. */
  data: string;
}

/** Why `name` may not be saved as an upload, or null. */
function badName(name: string): string | null {
  if (!name || name === '.' || name === '..') return 'an empty name';
  if (/[/\\\0]/.test(name)) return 'a name with a path separator or NUL in it (a file name is wanted, not a path)';
  if (name.startsWith('.')) return 'a hidden file name (starting with a dot)';
  if (!isImageFile(name)) return `not an image file name (expected one of ${IMAGE_EXTENSIONS.join(' ')})`;
  return null;
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * Saves every upload under `<root>/uploads/` and returns the files, in order, and those this call wrote (not
 * found there already). All names are checked before anything is written, so a bad one saves nothing.
 */
export function saveUploads(root: string, files: readonly UploadedFile[]): { files: string[]; written: string[] } {
  const decoded = files.map((f) => {
    const why = badName(f.name);
    if (why) throw new StarlingError('INVALID_INPUT', `upload ${JSON.stringify(f.name)}: ${why}`);
    const bytes = Buffer.from(f.data, 'base64');
    if (!bytes.length) throw new StarlingError('INVALID_INPUT', `upload ${f.name}: the file is empty`);
    if (bytes.length > MAX_IMAGE_BYTES)
      throw new StarlingError('TOO_LARGE', `upload ${f.name}: over ${MAX_IMAGE_BYTES / 2 ** 20} MB`);
    return { name: f.name, bytes };
  });
  const dir = path.join(root, UPLOADS_FOLDER);
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st && !st.isDirectory())
    throw new StarlingError('INVALID_INPUT', `${dir}: not a folder (a link or a file): uploads are not written there`);
  const taken = new Set<string>();
  const written: string[] = [];
  const saved = decoded.map(({ name, bytes }) => {
    const ext = path.extname(name);
    const stem = name.slice(0, name.length - ext.length);
    const hash = sha(bytes);
    for (let n = 0; ; n++) {
      const file = path.join(dir, n ? `${stem}-${n}${ext}` : name);
      if (taken.has(file)) continue;
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (st && !st.isFile()) continue; // a folder or link of that name is not ours to replace
      if (st && sha256Of(file) !== hash) continue;
      if (!st) {
        writeFileAtomic(file, (fd) => fs.writeSync(fd, bytes));
        written.push(file);
      }
      taken.add(file);
      return file;
    }
  });
  return { files: saved, written };
}

/** Removes the uploads this upload wrote that were then refused (a corrupt image is not kept in the project). */
export function discardRefused(written: readonly string[], refused: readonly string[]): void {
  const bad = new Set(refused.map((f) => path.resolve(f)));
  for (const f of written) if (bad.has(path.resolve(f))) fs.rmSync(f, { force: true });
}
