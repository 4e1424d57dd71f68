import fs from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '../store/types.js';
import type { DatasetImage } from './dataset.js';

export type ImagePlacement = 'link' | 'copy' | 'none';

/** Shortest text that parses back to the same double: lossless numbers in label files. */
export const formatNumber = (n: number): string => String(n);

/** The split a file name states (`instances_val2017.json`, `train.json`, `test.txt`), if any. */
export function splitFromName(file: string): Split | undefined {
  const stem = path
    .basename(file)
    .replace(/\.[^.]+$/, '')
    .replace(/\d+$/, '')
    .toLowerCase();
  for (const s of ['train', 'val', 'test'] as const)
    if (stem === s || stem.endsWith(`_${s}`) || stem.endsWith(`-${s}`)) return s;
  return undefined;
}

/**
 * A unique file name for each image within a group (a split, or a whole export): the base name, and on a
 * collision the parent folder names joined with `__` until unique.
 */
export function uniqueNames(files: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  // Stems must be unique too: `a.jpg` and `a.png` would share the label file `a.txt`.
  const taken = new Set<string>();
  const free = (name: string) => !taken.has(stem(name).toLowerCase());
  for (const file of files) {
    const parts = file.split(/[\\/]/).filter(Boolean);
    let name = parts.at(-1)!;
    for (let up = 2; !free(name) && up <= parts.length; up++) name = parts.slice(-up).join('__');
    for (let k = 1; !free(name); k++) name = `${k}__${parts.at(-1)}`;
    taken.add(stem(name).toLowerCase());
    out.set(file, name);
  }
  return out;
}

/** Puts an image beside exported labels: a hard link when the file system allows, else a copy. */
export async function placeImage(src: string, dst: string, mode: ImagePlacement): Promise<boolean> {
  if (mode === 'none') return false;
  await fs.mkdir(path.dirname(dst), { recursive: true });
  await fs.rm(dst, { force: true });
  if (mode === 'link') {
    try {
      await fs.link(src, dst);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw e;
    }
  }
  await fs.copyFile(src, dst);
  return true;
}

/** Writes a text file atomically (temp + rename), creating its folder. */
export async function writeText(file: string, text: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
  return file;
}

export function requireSize(im: DatasetImage): { width: number; height: number } {
  if (!im.width || !im.height) throw new Error(`${im.file}: image size unknown, cannot write labels`);
  return { width: im.width, height: im.height };
}

export function stem(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, '');
}
