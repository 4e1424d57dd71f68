import { registerFormat } from './registry.js';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Split } from '../store/types.js';
import { SPLITS } from '../store/types.js';
import { isImageFile } from '../vision/probe.js';
import type { Dataset, DatasetBox, DatasetImage, ItemError, ParseResult } from './dataset.js';
import { formatNumber, placeImage, requireSize, stem, uniqueNames, writeText, type ImagePlacement } from './files.js';
import { decodeUtf8, resolveInside } from './safe-path.js';

/** Ultralytics YOLO detection layout: data.yaml + images/<split>/ + labels/<split>/*.txt (class cx cy w h, 0..1). */

const NORMALIZED_TOLERANCE = 1e-6;

function findYaml(input: string): string {
  if (fsSync.statSync(input).isFile()) return input;
  for (const name of ['data.yaml', 'dataset.yaml', 'data.yml']) {
    const f = path.join(input, name);
    if (fsSync.existsSync(f)) return f;
  }
  throw new Error(`${input}: no data.yaml found (the Ultralytics dataset file)`);
}

/** Ultralytics' rule: the label of `.../images/x/a.jpg` is `.../labels/x/a.txt` (last /images/ segment). */
export function labelPathFor(imageFile: string): string {
  const parts = imageFile.split(path.sep);
  const i = parts.lastIndexOf('images');
  if (i >= 0) parts[i] = 'labels';
  return parts.join(path.sep).replace(/\.[^./\\]+$/, '.txt');
}

/** Image files under a folder, recursively; names that are not valid UTF-8 are reported, not guessed. */
async function listImages(dir: string, errors: ItemError[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true, encoding: 'buffer' });
    for (const e of entries) {
      const name = decodeUtf8(e.name);
      if (name === null) {
        errors.push({
          file: d,
          item: JSON.stringify(e.name.toString('latin1')),
          problem: 'file name is not valid UTF-8',
          scope: 'image',
        });
        continue;
      }
      const full = path.join(d, name);
      if (e.isDirectory()) await walk(full);
      else if (isImageFile(name)) out.push(full);
    }
  };
  await walk(dir);
  return out.sort();
}

function parseLabelFile(text: string, file: string, nc: number, errors: ItemError[]): DatasetBox[] {
  const boxes: DatasetBox[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed) return;
    const item = `line ${i + 1}`;
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5) {
      const problem =
        fields.length > 5
          ? `${fields.length} fields: segmentation polygons are not supported (want: class cx cy w h)`
          : `${fields.length} fields, want 5: class cx cy w h`;
      errors.push({ file, item, problem, scope: 'box' });
      return;
    }
    const nums = fields.map(Number);
    if (!fields.every((f) => DECIMAL.test(f)) || !nums.every(Number.isFinite)) {
      errors.push({ file, item, problem: `not numbers: "${trimmed}"`, scope: 'box' });
      return;
    }
    const [cls, cx, cy, w, h] = nums as [number, number, number, number, number];
    if (!/^\d+(\.0*)?$/.test(fields[0]!) || cls >= nc) {
      errors.push({ file, item, problem: `unknown class id ${fields[0]} (data.yaml has ${nc} names)`, scope: 'box' });
      return;
    }
    const x = cx - w / 2;
    const y = cy - h / 2;
    const t = NORMALIZED_TOLERANCE;
    if (w <= 0 || h <= 0 || x < -t || y < -t || x + w > 1 + t || y + h > 1 + t) {
      errors.push({ file, item, problem: `box "${trimmed}" lies outside the image (values are 0..1)`, scope: 'box' });
      return;
    }
    boxes.push({ classIndex: cls, x, y, w, h });
  });
  return boxes;
}

/** The class names of a data.yaml: each a non-empty text, none twice; or why not. */
function readNames(data: Record<string, unknown>): string[] | string {
  const names = data.names;
  let list: unknown[];
  if (Array.isArray(names)) list = names;
  else if (names && typeof names === 'object') {
    const entries = Object.entries(names as Record<string, unknown>).map(([k, v]) => [Number(k), v] as const);
    if (entries.some(([k]) => !Number.isInteger(k))) return '"names" map keys must be class ids 0..n-1';
    entries.sort((a, b) => a[0] - b[0]);
    if (entries.some(([k], i) => k !== i)) return '"names" map keys must be consecutive from 0';
    list = entries.map(([, v]) => v);
  } else return '"names" is missing (a list or a {id: name} map)';
  const out: string[] = [];
  for (const [i, v] of list.entries()) {
    if (v === null || v === undefined) return `names[${i}] is empty (null): every class needs a name`;
    if (typeof v === 'object') return `names[${i}] is not a name: ${JSON.stringify(v)}`;
    const name = String(v).trim();
    if (!name) return `names[${i}] is an empty name: every class needs a name`;
    const twin = out.indexOf(name);
    if (twin >= 0) return `names[${i}] "${name}" repeats names[${twin}]: each class needs its own name`;
    out.push(name);
  }
  return out;
}

/** A label line's number: decimal only (Number() would also take 0x1, Infinity or an empty string). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export async function parseYolo(input: string): Promise<ParseResult> {
  const yamlFile = findYaml(path.resolve(input));
  const errors: ItemError[] = [];
  const fail = (problem: string): ParseResult => ({
    dataset: { classes: [], images: [] },
    errors: [...errors, { file: yamlFile, problem, scope: 'file' }],
  });
  const text = decodeUtf8(await fs.readFile(yamlFile));
  if (text === null) return fail('not valid UTF-8 text');
  let data: Record<string, unknown>;
  try {
    data = (YAML.parse(text) ?? {}) as Record<string, unknown>;
  } catch (e) {
    return fail(`not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const names = readNames(data);
  if (typeof names === 'string') return fail(names);
  if (data.nc !== undefined && Number(data.nc) !== names.length) {
    return fail(`nc is ${String(data.nc)} but ${names.length} names are listed`);
  }
  const yamlDir = path.dirname(yamlFile);
  let root = yamlDir;
  if (typeof data.path === 'string' && data.path !== '.' && data.path !== '') {
    const r = resolveInside(yamlDir, data.path);
    if (!r.ok) return fail(`path: ${r.problem}`);
    root = r.path;
  }

  const images: DatasetImage[] = [];
  for (const split of SPLITS) {
    const entry = data[split];
    if (entry === undefined || entry === null) continue;
    const sources = Array.isArray(entry) ? entry : [entry];
    for (const src of sources) {
      if (typeof src !== 'string') return fail(`${split}: must be a folder or a .txt list, got ${JSON.stringify(src)}`);
      const r = resolveInside(root, src);
      if (!r.ok) return fail(`${split}: ${r.problem}`);
      let files: string[];
      if (src.endsWith('.txt')) {
        const list = decodeUtf8(await fs.readFile(r.path).catch(() => Buffer.from([0xff])));
        if (list === null) return fail(`${split}: ${r.path} is missing or not UTF-8`);
        files = [];
        for (const line of list
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter(Boolean)) {
          const f = resolveInside(root, line.replace(/^\.\//, ''));
          if (f.ok) files.push(f.path);
          else errors.push({ file: r.path, item: line, problem: f.problem, scope: 'image' });
        }
      } else {
        if (!fsSync.existsSync(r.path)) return fail(`${split}: folder ${r.path} does not exist`);
        files = await listImages(r.path, errors);
      }
      for (const file of files) images.push(await readImageLabels(file, split, names.length, errors));
    }
  }
  // Images a Starling export kept apart because they were not labeled yet: they come back unlabeled.
  if (typeof data[UNLABELED] === 'string') {
    const r = resolveInside(root, data[UNLABELED]);
    if (!r.ok) return fail(`${UNLABELED}: ${r.problem}`);
    if (fsSync.existsSync(r.path))
      for (const file of await listImages(r.path, errors))
        images.push({ file, split: 'train', labeled: false, boxes: [] });
  }
  return { dataset: { classes: names, images }, errors };
}

async function readImageLabels(file: string, split: Split, nc: number, errors: ItemError[]): Promise<DatasetImage> {
  const labelFile = labelPathFor(file);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(labelFile);
  } catch {
    return { file, split, labeled: false, boxes: [] }; // no label file: not labeled yet
  }
  const text = decodeUtf8(bytes);
  if (text === null) {
    errors.push({ file: labelFile, problem: 'not valid UTF-8 text', scope: 'image' });
    return { file, split, labeled: false, boxes: [] };
  }
  const before = errors.length;
  const boxes = parseLabelFile(text, labelFile, nc, errors);
  const dropped = errors.length - before;
  return { file, split, labeled: true, normalized: true, boxes, ...(dropped ? { droppedBoxes: dropped } : {}) };
}

/** Where a pooled export keeps the images that are not labeled yet (a data.yaml key Ultralytics ignores). */
const UNLABELED = 'unlabeled';

/**
 * Writes the Ultralytics layout: data.yaml, labels/<split>/<name>.txt and the images under images/<split>/
 * (hard links, or copies). Only labeled images go into the splits, each with its label file (empty for a
 * negative): Ultralytics reads an image without a label file as background, so an unlabeled one there would
 * teach it that every object on it is background. With `unlabeled: 'pool'` the others go to images/unlabeled/,
 * which data.yaml names under `unlabeled:` (Starling reads it back; Ultralytics does not train on it).
 */
export async function writeYolo(
  ds: Dataset,
  outDir: string,
  opts: { images: ImagePlacement; unlabeled?: 'skip' | 'pool' },
): Promise<string[]> {
  const written: string[] = [];
  const labeled = ds.images.filter((im) => im.labeled);
  const pool = opts.unlabeled === 'pool' ? ds.images.filter((im) => !im.labeled) : [];
  const present = SPLITS.filter((s) => labeled.some((im) => im.split === s));
  if (pool.length) {
    const names = uniqueNames(pool.map((im) => im.file));
    for (const im of pool) {
      const to = path.join(outDir, 'images', UNLABELED, names.get(im.file)!);
      if (await placeImage(im.file, to, opts.images)) written.push(to);
    }
  }
  for (const split of present) {
    const images = labeled.filter((im) => im.split === split);
    const names = uniqueNames(images.map((im) => im.file));
    for (const im of images) {
      const name = names.get(im.file)!;
      if (await placeImage(im.file, path.join(outDir, 'images', split, name), opts.images)) {
        written.push(path.join(outDir, 'images', split, name));
      }
      const { width, height } = requireSize(im);
      const lines = im.boxes.map((b) =>
        [b.classIndex, (b.x + b.w / 2) / width, (b.y + b.h / 2) / height, b.w / width, b.h / height]
          .map(formatNumber)
          .join(' '),
      );
      written.push(
        await writeText(
          path.join(outDir, 'labels', split, `${stem(name)}.txt`),
          lines.join('\n') + (lines.length ? '\n' : ''),
        ),
      );
    }
  }
  const yaml = YAML.stringify({
    path: '.',
    ...Object.fromEntries(present.map((s) => [s, `images/${s}`])),
    ...(pool.length ? { [UNLABELED]: `images/${UNLABELED}` } : {}),
    nc: ds.classes.length,
    names: ds.classes,
  });
  written.push(await writeText(path.join(outDir, 'data.yaml'), yaml));
  return written;
}

registerFormat({
  name: 'yolo',
  description: 'YOLO txt labels with data.yaml (the Ultralytics layout)',
  parse: (input) => parseYolo(input),
  pools: true,
  write: (ds, outDir, opts) => writeYolo(ds, outDir, { images: opts.images, unlabeled: opts.unlabeled ?? 'skip' }),
});
