/**
 * Opening files a dataset or a project names, safely: the real path (symlinks resolved) must lie where it is
 * allowed to, only regular files are read (a device such as /dev/zero would be read forever, a FIFO would block
 * forever), and nothing larger than a cap is read.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The largest image Starling reads (a 100-megapixel 16-bit TIFF is 600 MB; a JPEG of that is far smaller). */
export const MAX_IMAGE_BYTES = 1024 * 1024 * 1024;

/** `file` with symlinks resolved, or the path as given when it does not exist. */
export function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Whether `file`'s real path lies inside `root`'s real path. */
export function realInside(root: string, file: string): boolean {
  const rel = path.relative(realPath(root), realPath(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** What a non-regular file is, in words. */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why `file` (symlinks followed) may not be read as an image, or null: missing, not a regular file, too large. */
export function unreadableFile(file: string, maxBytes = MAX_IMAGE_BYTES): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'image file not found' : `cannot read image (${code ?? (e as Error).message})`;
  }
  if (!st.isFile()) return `not a regular file: it is ${kindOf(st)}`;
  if (st.size > maxBytes)
    return `the file is ${(st.size / 2 ** 20).toFixed(0)} MB; images over ${(maxBytes / 2 ** 20).toFixed(0)} MB are refused`;
  return null;
}
