/**
 * Opening files a dataset or a project names, safely: the real path (symlinks resolved) must lie where it is
 * allowed to, only regular files are read (a device such as /dev/zero would be read forever, a FIFO would block
 * forever), and nothing larger than a cap is read.
 */
import crypto from 'node:crypto';
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

/** Whether a process of this machine with that pid is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp files that writes killed midway left beside `file` (`<file>.<pid>.tmp` of a process that is gone). */
export function removeStaleTemps(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = name.startsWith(`${base}.`) ? /^\.(\d+)\.tmp$/.exec(name.slice(base.length)) : null;
    if (!m || alive(Number(m[1]))) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Writes `file` so that it is always either the old file or the whole new one: into `<file>.<pid>.tmp`, flushed
 * to disk, then renamed over it. A kill -9 midway leaves the old file and a temp file the next write removes.
 */
export function writeFileAtomic(file: string, write: (fd: number) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  removeStaleTemps(file);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    write(fd);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}

/** A file's sha256, read in 1 MiB pieces (checkpoints and teacher models can be hundreds of MB). */
export function sha256Of(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
