import { registerFormat } from './registry.js';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Split } from '../store/types.js';
import { SPLITS } from '../store/types.js';
import type { Dataset, DatasetImage, ItemError, ParseResult } from './dataset.js';
import { formatNumber, placeImage, requireSize, stem, uniqueNames, writeText, type ImagePlacement } from './files.js';
import { decodeUtf8, resolveInside } from './safe-path.js';

/**
 * Pascal VOC: Annotations/<stem>.xml, JPEGImages/, ImageSets/Main/<split>.txt, optional labels.txt.
 * Coordinates are used as written (no 1-based shift), as most tools that export VOC today write them.
 */

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === 'object' });

async function readLines(file: string): Promise<string[] | null> {
  if (!fsSync.existsSync(file)) return null;
  const text = decodeUtf8(await fs.readFile(file));
  if (text === null) return null;
  return text
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function parseVoc(input: string, opts: { split?: Split } = {}): Promise<ParseResult> {
  const root = path.resolve(input);
  const annDir = path.join(root, 'Annotations');
  const imgDir = path.join(root, 'JPEGImages');
  const errors: ItemError[] = [];
  if (!fsSync.existsSync(annDir)) {
    return {
      dataset: { classes: [], images: [] },
      errors: [{ file: root, problem: 'no Annotations/ folder (not a VOC dataset)', scope: 'file' }],
    };
  }

  const fixed = await readLines(path.join(root, 'labels.txt'));
  const twice = fixed?.find((c, i) => fixed.indexOf(c) !== i);
  if (twice !== undefined)
    return {
      dataset: { classes: [], images: [] },
      errors: [
        {
          file: path.join(root, 'labels.txt'),
          problem: `"${twice}" is listed twice: each class needs its own name`,
          scope: 'file',
        },
      ],
    };
  const classes: string[] = fixed ? [...fixed] : [];
  const classIndex = new Map(classes.map((c, i) => [c, i]));

  // Which split each stem belongs to.
  const splitOf = new Map<string, Split>();
  const setsDir = path.join(root, 'ImageSets', 'Main');
  let haveSets = false;
  for (const split of SPLITS) {
    const list = await readLines(path.join(setsDir, `${split}.txt`));
    if (!list) continue;
    haveSets = true;
    for (const s of list) splitOf.set(s, split);
  }
  const xmlNames = (await fs.readdir(annDir)).filter((n) => n.toLowerCase().endsWith('.xml')).sort();
  const xmlStems = new Set(xmlNames.map(stem));
  for (const s of splitOf.keys()) {
    if (!xmlStems.has(s))
      errors.push({
        file: path.join(setsDir, `${splitOf.get(s)}.txt`),
        item: s,
        problem: 'listed, but Annotations has no XML for it',
        scope: 'image',
      });
  }

  const images: DatasetImage[] = [];
  for (const name of xmlNames) {
    const file = path.join(annDir, name);
    const split = haveSets ? splitOf.get(stem(name)) : (opts.split ?? 'train');
    if (!split) continue; // not in any image set: not part of this dataset
    const text = decodeUtf8(await fs.readFile(file));
    if (text === null) {
      errors.push({ file, problem: 'not valid UTF-8 text', scope: 'image' });
      continue;
    }
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      errors.push({ file, problem: `malformed XML (line ${valid.err.line}: ${valid.err.msg})`, scope: 'image' });
      continue;
    }
    // A DOCTYPE can declare entities (XXE, billion laughs): annotation files never need one.
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
      errors.push({
        file,
        problem: 'declares a DOCTYPE or entities, which annotation files do not use: refused',
        scope: 'image',
      });
      continue;
    }
    let ann: Record<string, unknown> | undefined;
    try {
      ann = (parser.parse(text) as { annotation?: Record<string, unknown> }).annotation;
    } catch (e) {
      errors.push({ file, problem: `cannot be read as XML (${(e as Error).message})`, scope: 'image' });
      continue;
    }
    if (!ann) {
      errors.push({ file, problem: 'no <annotation> element', scope: 'image' });
      continue;
    }
    const written = typeof ann.filename === 'string' && ann.filename.trim() ? ann.filename.trim() : `${stem(name)}.jpg`;
    const resolved = resolveInside(imgDir, written);
    if (!resolved.ok) {
      errors.push({ file, item: '<filename>', problem: resolved.problem, scope: 'image' });
      continue;
    }
    const image: DatasetImage = { file: resolved.path, split, labeled: true, boxes: [] };
    const size = ann.size as { width?: string; height?: string } | undefined;
    if (size && Number(size.width) > 0 && Number(size.height) > 0) {
      image.width = Number(size.width);
      image.height = Number(size.height);
    }
    const before = errors.length;
    ((ann.object as Record<string, unknown>[] | undefined) ?? []).forEach((obj, i) => {
      const item = `object ${i + 1}`;
      const cls = typeof obj.name === 'string' ? obj.name.trim() : '';
      if (!cls) {
        errors.push({ file, item, problem: 'object has no <name>', scope: 'box' });
        return;
      }
      if (!classIndex.has(cls)) {
        if (fixed) {
          errors.push({ file, item, problem: `unknown class "${cls}" (not in labels.txt)`, scope: 'box' });
          return;
        }
        classIndex.set(cls, classes.length);
        classes.push(cls);
      }
      const bb = obj.bndbox as Record<string, string> | undefined;
      const [x1, y1, x2, y2] = ['xmin', 'ymin', 'xmax', 'ymax'].map((k) =>
        bb && bb[k] !== undefined && bb[k] !== '' ? Number(bb[k]) : NaN,
      );
      if (![x1, y1, x2, y2].every((v) => Number.isFinite(v))) {
        errors.push({ file, item, problem: '<bndbox> needs numeric xmin, ymin, xmax, ymax', scope: 'box' });
        return;
      }
      if (x2! < x1! || y2! < y1!) {
        errors.push({
          file,
          item,
          problem: `xmax/ymax smaller than xmin/ymin (${x1},${y1},${x2},${y2})`,
          scope: 'box',
        });
        return;
      }
      image.boxes.push({ classIndex: classIndex.get(cls)!, x: x1!, y: y1!, w: x2! - x1!, h: y2! - y1! });
    });
    if (errors.length > before) image.droppedBoxes = errors.length - before;
    images.push(image);
  }
  return { dataset: { classes, images }, errors };
}

const builder = new XMLBuilder({ format: true, suppressEmptyNode: false });

/** Writes Annotations/, ImageSets/Main/<split>.txt, labels.txt and the images into JPEGImages/. */
export async function writeVoc(ds: Dataset, outDir: string, opts: { images: ImagePlacement }): Promise<string[]> {
  const written: string[] = [];
  const labeled = ds.images.filter((im) => im.labeled);
  const names = uniqueNames(labeled.map((im) => im.file));
  const sets = new Map<Split, string[]>();
  for (const im of labeled) {
    const name = names.get(im.file)!;
    const { width, height } = requireSize(im);
    const annotation = {
      annotation: {
        folder: 'JPEGImages',
        filename: name,
        size: { width, height, depth: 3 },
        object: im.boxes.map((b) => ({
          name: ds.classes[b.classIndex],
          pose: 'Unspecified',
          truncated: 0,
          difficult: 0,
          bndbox: {
            xmin: formatNumber(b.x),
            ymin: formatNumber(b.y),
            xmax: formatNumber(b.x + b.w),
            ymax: formatNumber(b.y + b.h),
          },
        })),
      },
    };
    written.push(
      await writeText(path.join(outDir, 'Annotations', `${stem(name)}.xml`), builder.build(annotation) as string),
    );
    if (await placeImage(im.file, path.join(outDir, 'JPEGImages', name), opts.images))
      written.push(path.join(outDir, 'JPEGImages', name));
    sets.set(im.split, [...(sets.get(im.split) ?? []), stem(name)]);
  }
  for (const [split, stems] of sets)
    written.push(await writeText(path.join(outDir, 'ImageSets', 'Main', `${split}.txt`), stems.join('\n') + '\n'));
  written.push(await writeText(path.join(outDir, 'labels.txt'), ds.classes.join('\n') + '\n'));
  return written;
}

registerFormat({
  name: 'voc',
  description: 'Pascal VOC XML (Annotations/, JPEGImages/, ImageSets/Main/)',
  parse: (input, opts) => parseVoc(input, opts),
  write: (ds, outDir, opts) => writeVoc(ds, outDir, { images: opts.images }),
});
