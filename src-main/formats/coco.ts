import { registerFormat } from './registry.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Split } from '../store/types.js';
import { SPLITS } from '../store/types.js';
import type { Dataset, DatasetImage, ItemError, ParseResult } from './dataset.js';
import { splitFromName, writeText } from './files.js';
import { decodeUtf8, resolveInside } from './safe-path.js';

/** COCO detection JSON (bbox only): https://cocodataset.org/#format-data */

interface CocoFile {
  file: string;
  split: Split;
}

async function findCocoFiles(input: string, fallback: Split): Promise<CocoFile[]> {
  const st = await fs.stat(input);
  if (!st.isDirectory()) return [{ file: input, split: splitFromName(input) ?? fallback }];
  const out: CocoFile[] = [];
  for (const dir of [input, path.join(input, 'annotations')]) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (!name.toLowerCase().endsWith('.json')) continue;
      const split = splitFromName(name);
      if (split) out.push({ file: path.join(dir, name), split });
    }
  }
  if (!out.length) throw new Error(`${input}: no COCO files named *train.json, *val.json or *test.json found`);
  // Canonical order (train, val, test) so images come back in the order they were exported.
  return out.sort((a, b) => SPLITS.indexOf(a.split) - SPLITS.indexOf(b.split));
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export async function parseCoco(
  input: string,
  opts: { imagesRoot?: string; split?: Split } = {},
): Promise<ParseResult> {
  const errors: ItemError[] = [];
  const classes: string[] = [];
  const classIndex = new Map<string, number>();
  const images: DatasetImage[] = [];

  for (const { file, split } of await findCocoFiles(input, opts.split ?? 'train')) {
    const fileError = (problem: string) => errors.push({ file, problem, scope: 'file' });
    const text = decodeUtf8(await fs.readFile(file));
    if (text === null) {
      fileError('not valid UTF-8 text');
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      fileError(`not valid JSON (${(e as Error).message})`);
      continue;
    }
    const doc = json as { images?: unknown; annotations?: unknown; categories?: unknown };
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.images) || !Array.isArray(doc.categories)) {
      fileError('not a COCO detection file: "images" and "categories" arrays are required');
      continue;
    }
    const annotations = Array.isArray(doc.annotations) ? (doc.annotations as unknown[]) : [];
    if (doc.annotations !== undefined && !Array.isArray(doc.annotations)) {
      fileError('"annotations" must be an array');
      continue;
    }
    const root = opts.imagesRoot ?? path.dirname(file);

    // Categories, by id order, merged by name across files.
    const catToClass = new Map<number, number>();
    const cats = (doc.categories as { id?: unknown; name?: unknown }[])
      .filter((c, i) => {
        const ok = c && isNum(c.id) && typeof c.name === 'string' && c.name.trim() !== '';
        if (!ok)
          errors.push({
            file,
            item: `category ${i + 1}`,
            problem: 'a category needs a numeric id and a name',
            scope: 'file',
          });
        return ok;
      })
      .sort((a, b) => (a.id as number) - (b.id as number));
    // Two categories of one file with one name would be merged silently: refused (across files, a name is one class).
    const seenNames = new Map<string, number>();
    for (const c of cats) {
      const name = (c.name as string).trim();
      const twin = seenNames.get(name);
      if (twin !== undefined && twin !== c.id)
        errors.push({
          file,
          item: `category ${String(c.id)}`,
          problem: `name "${name}" is also category ${twin}'s: each category needs its own name`,
          scope: 'file',
        });
      seenNames.set(name, c.id as number);
      if (!classIndex.has(name)) {
        classIndex.set(name, classes.length);
        classes.push(name);
      }
      catToClass.set(c.id as number, classIndex.get(name)!);
    }

    const byId = new Map<number, DatasetImage>();
    (doc.images as { id?: unknown; file_name?: unknown; width?: unknown; height?: unknown }[]).forEach((im, i) => {
      const item = `image ${isNum(im?.id) ? im.id : `#${i + 1}`}`;
      if (!im || !isNum(im.id) || typeof im.file_name !== 'string') {
        errors.push({ file, item, problem: 'an image needs a numeric id and a file_name string', scope: 'image' });
        return;
      }
      if (byId.has(im.id)) {
        errors.push({ file, item, problem: `duplicate image id ${im.id}`, scope: 'image' });
        return;
      }
      const resolved = resolveInside(root, im.file_name);
      if (!resolved.ok) {
        errors.push({ file, item, problem: resolved.problem, scope: 'image' });
        byId.set(im.id, null as unknown as DatasetImage); // known id, but its boxes are dropped with it
        return;
      }
      const entry: DatasetImage = { file: resolved.path, split, labeled: true, boxes: [] };
      if (isNum(im.width)) entry.width = im.width;
      if (isNum(im.height)) entry.height = im.height;
      byId.set(im.id, entry);
      images.push(entry);
    });

    annotations.forEach((raw, i) => {
      const a = raw as { id?: unknown; image_id?: unknown; category_id?: unknown; bbox?: unknown; iscrowd?: unknown };
      const item = `annotation ${isNum(a?.id) ? a.id : `#${i + 1}`}`;
      if (!a || typeof a !== 'object') {
        errors.push({ file, item, problem: 'not an object', scope: 'box' });
        return;
      }
      if (a.iscrowd === 1) return; // crowd regions are not boxes to detect
      if (!isNum(a.image_id) || !byId.has(a.image_id)) {
        errors.push({ file, item, problem: `unknown image_id ${String(a.image_id)}`, scope: 'box' });
        return;
      }
      const image = byId.get(a.image_id);
      if (!image) return; // its image was refused; that error is reported already
      const drop = (problem: string) => {
        errors.push({ file, item, problem, scope: 'box' });
        image.droppedBoxes = (image.droppedBoxes ?? 0) + 1;
      };
      if (!isNum(a.category_id) || !catToClass.has(a.category_id))
        return drop(`unknown category_id ${String(a.category_id)}`);
      const b = a.bbox;
      if (!Array.isArray(b) || b.length !== 4 || !b.every(isNum))
        return drop('bbox must be 4 finite numbers [x, y, width, height]');
      const [x, y, w, h] = b as [number, number, number, number];
      if (w < 0 || h < 0) return drop(`bbox has a negative size (${w}x${h})`);
      image.boxes.push({ classIndex: catToClass.get(a.category_id)!, x, y, w, h });
    });
  }
  return { dataset: { classes, images }, errors };
}

/**
 * Writes `instances_<split>.json` per split. `file_name` is relative to `imagesRoot`; every file lists all
 * categories so the class order survives a round trip. Unlabeled images are not written (COCO cannot say
 * "not labeled yet").
 */
export async function writeCoco(ds: Dataset, outDir: string, opts: { imagesRoot: string }): Promise<string[]> {
  const written: string[] = [];
  const categories = ds.classes.map((name, i) => ({ id: i + 1, name, supercategory: '' }));
  for (const split of SPLITS) {
    const images = ds.images.filter((im) => im.split === split && im.labeled);
    if (!images.length) continue;
    let annId = 1;
    const doc = {
      info: { description: 'Exported by Starling' },
      images: images.map((im, i) => {
        const rel = path.relative(opts.imagesRoot, im.file);
        if (rel.startsWith('..') || path.isAbsolute(rel)) {
          throw new Error(`${im.file}: outside the images root ${opts.imagesRoot}; COCO file_name must be relative`);
        }
        if (!im.width || !im.height) throw new Error(`${im.file}: image size unknown`);
        return { id: i + 1, file_name: rel.split(path.sep).join('/'), width: im.width, height: im.height };
      }),
      annotations: images.flatMap((im, i) =>
        im.boxes.map((b) => ({
          id: annId++,
          image_id: i + 1,
          category_id: b.classIndex + 1,
          bbox: [b.x, b.y, b.w, b.h],
          area: b.w * b.h,
          iscrowd: 0,
        })),
      ),
      categories,
    };
    written.push(await writeText(path.join(outDir, `instances_${split}.json`), JSON.stringify(doc)));
  }
  return written;
}

registerFormat({
  name: 'coco',
  description: 'COCO JSON (instances_<split>.json)',
  parse: (input, opts) => parseCoco(input, opts),
  write: (ds, outDir, opts) => writeCoco(ds, outDir, { imagesRoot: opts.imagesRoot }),
});
