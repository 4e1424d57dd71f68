import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Rng } from '../../src-main/util/random.js';
import { generateSample, type SampleResult } from '../../src-main/sample/generate.js';
import { layoutScene, sceneBoxes } from '../../src-main/sample/layout.js';
import { SHAPE_CLASSES, clippedExtent, shapeExtent, shapeSvg, type ShapeSpec } from '../../src-main/sample/shapes.js';
import { tempDir } from '../helpers.js';
import { formatSizeHistogram, sizeHistogram, type SizeMix } from '../../src-main/sample/size-mix.js';

let a: ReturnType<typeof tempDir>;
let b: ReturnType<typeof tempDir>;
beforeEach(() => {
  a = tempDir();
  b = tempDir();
});
afterEach(() => {
  a.cleanup();
  b.cleanup();
});

const small = { train: 6, pool: 3, val: 3, test: 3 };
/** A result with the sample directory taken out of the file paths, to compare runs made in different folders. */
const relative = (r: SampleResult, dir: string) =>
  [...r.dataset.images, ...r.pool.images].map((im) => ({ ...im, file: path.relative(dir, im.file) }));

describe('sample generator', () => {
  it('writes real images of the recorded sizes whose boxes lie inside them', async () => {
    const progress: [number, number][] = [];
    const r = await generateSample(a.dir, { seed: 5, counts: small, onProgress: (d, t) => progress.push([d, t]) });
    expect(r.classes).toEqual([...SHAPE_CLASSES]);
    expect(r.dataset.classes).toEqual(r.classes);
    expect(r.dataset.images.map((im) => im.split)).toEqual([
      ...Array(6).fill('train'),
      ...Array(3).fill('val'),
      ...Array(3).fill('test'),
    ]);
    expect(r.pool.images.map((im) => im.split)).toEqual(['train', 'train', 'train']);
    expect(r.pool.images[0]!.file).toBe(path.join(a.dir, 'images', 'pool', 'pool_00000.jpg'));
    expect(r.files).toHaveLength(15);
    expect(progress.at(-1)).toEqual([15, 15]);
    for (const im of [...r.dataset.images, ...r.pool.images]) {
      expect(r.files).toContain(im.file);
      expect(im.labeled).toBe(true);
      const meta = await sharp(im.file).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', im.width, im.height]);
      expect(Math.min(im.width!, im.height!)).toBeGreaterThanOrEqual(240);
      expect(Math.max(im.width!, im.height!)).toBeLessThanOrEqual(512);
      for (const box of im.boxes) {
        expect(box.w).toBeGreaterThan(0);
        expect(box.h).toBeGreaterThan(0);
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.w).toBeLessThanOrEqual(im.width!);
        expect(box.y + box.h).toBeLessThanOrEqual(im.height!);
      }
    }
  });

  it('is byte-identical for a seed and differs across seeds', async () => {
    const counts = { train: 3, pool: 1, val: 1, test: 1 };
    const r1 = await generateSample(a.dir, { seed: 7, counts });
    const r2 = await generateSample(b.dir, { seed: 7, counts });
    expect(relative(r2, b.dir)).toEqual(relative(r1, a.dir));
    r1.files.forEach((f, i) => expect(fs.readFileSync(r2.files[i]!).equals(fs.readFileSync(f))).toBe(true));
    const other = path.join(b.dir, 'other');
    const r3 = await generateSample(other, { seed: 8, counts });
    expect(relative(r3, other)).not.toEqual(relative(r1, a.dir));
    expect(fs.readFileSync(r3.files[0]!).equals(fs.readFileSync(r1.files[0]!))).toBe(false);
  });

  it('draws every class, small and large, across a few dozen images', async () => {
    const r = await generateSample(a.dir, { seed: 0, counts: { train: 30, pool: 0, val: 0, test: 0 } });
    const boxes = r.dataset.images.flatMap((im) => im.boxes);
    expect(new Set(boxes.map((x) => x.classIndex)).size).toBe(SHAPE_CLASSES.length);
    const sides = boxes.map((x) => Math.sqrt(x.w * x.h));
    expect(Math.min(...sides)).toBeLessThan(16);
    expect(Math.max(...sides)).toBeGreaterThan(100);
  });

  it('stops with "cancelled" when aborted', async () => {
    const ctrl = new AbortController();
    const p = generateSample(a.dir, {
      counts: { train: 200, pool: 0, val: 0, test: 0 },
      signal: ctrl.signal,
      onProgress: (done) => done === 3 && ctrl.abort(),
    });
    await expect(p).rejects.toThrow('cancelled');
    expect(fs.readdirSync(path.join(a.dir, 'images', 'train')).length).toBeLessThan(10);
    await expect(generateSample(b.dir, { counts: small, signal: AbortSignal.abort() })).rejects.toThrow('cancelled');
  });
});

describe('scene layout', () => {
  const scenes = Array.from({ length: 300 }, (_, i) => layoutScene(new Rng('starling-sample', 0, 'train', i)));

  it('varies image shape and object count, with a few negatives', () => {
    expect(scenes.some((s) => s.width > s.height)).toBe(true);
    expect(scenes.some((s) => s.width < s.height)).toBe(true);
    const counts = scenes.map((s) => sceneBoxes(s).length);
    expect(counts.filter((n) => n === 0).length).toBeGreaterThan(3);
    expect(Math.max(...counts)).toBe(8);
  });

  it('labels exactly the objects that stay at least 40% visible, and few are lost', () => {
    const objects = scenes.flatMap((s) => s.objects);
    for (const o of objects)
      expect(o.labeled).toBe(o.visible >= 0.4 && o.box !== null && Math.min(o.box.w, o.box.h) >= 4);
    const lost = objects.filter((o) => !o.labeled).length;
    expect(lost).toBeGreaterThan(0);
    expect(lost / objects.length).toBeLessThan(0.06);
    // Overlap does happen: some labeled objects are partly hidden.
    expect(objects.filter((o) => o.labeled && o.visible < 0.9).length).toBeGreaterThan(20);
  });
});

describe('object sizes', () => {
  const images = (mix: SizeMix) =>
    Array.from({ length: 300 }, (_, i) => {
      const s = layoutScene(new Rng('starling-sample', 3, 'train', i), mix);
      return {
        file: '',
        split: 'train' as const,
        width: s.width,
        height: s.height,
        labeled: true,
        boxes: sceneBoxes(s),
      };
    });

  it("gives the labeled boxes COCO's shares of small, medium and large at imgsz 320", () => {
    const h = sizeHistogram(images('coco'), 320);
    const share = Object.fromEntries(h.classes.map((c) => [c.name, c.share]));
    // COCO 2017 train: 41% small, 34% medium, 24% large (by instance).
    expect(share.small).toBeCloseTo(0.41, 1);
    expect(share.medium).toBeCloseTo(0.34, 1);
    expect(share.large).toBeCloseTo(0.24, 1);
    expect(h.bins.reduce((n, b) => n + b.count, 0)).toBe(h.boxes);
    const lines = formatSizeHistogram(h);
    expect(lines[0]).toMatch(/^\d+ boxes at imgsz 320: small 4\d%, medium 3\d%, large 2\d% \(median side \d+ px\)$/);
    expect(lines).toHaveLength(1 + h.bins.length);
  });

  it("keeps the first sample's mix, mostly small, under log-uniform", () => {
    const share = sizeHistogram(images('log-uniform'), 320).classes;
    expect(share[0]!.share).toBeGreaterThan(0.55);
    expect(share[2]!.share).toBeLessThan(0.06);
  });

  it('measures sizes in the letterboxed frame', () => {
    const im = { file: '', split: 'val' as const, width: 640, height: 320, labeled: true, boxes: [] };
    const box = { classIndex: 0, x: 0, y: 0, w: 64, h: 64 }; // 32 px at 320
    const h = sizeHistogram([{ ...im, boxes: [box] }], 320);
    expect(h.classes.map((c) => c.count)).toEqual([0, 1, 0]);
    expect(h.medianSide).toBe(32);
  });
});

describe('shape geometry', () => {
  const spec = (cls: ShapeSpec['cls'], rotation: number, extra: Partial<ShapeSpec> = {}): ShapeSpec => ({
    cls,
    cx: 50,
    cy: 50,
    r: 10,
    rotation,
    fill: '#fff',
    ...extra,
  });

  it('gives the exact box of a rotated square', () => {
    // Circumradius 10: side s = 10*sqrt(2). Axis-aligned the box is s wide; at 45 degrees it is s*sqrt(2) = 20.
    const side = 10 * Math.SQRT2;
    expect(shapeExtent(spec('square', 0)).w).toBeCloseTo(side, 9);
    const diamond = shapeExtent(spec('square', 45));
    expect(diamond.w).toBeCloseTo(side * Math.SQRT2, 9);
    expect(diamond.h).toBeCloseTo(side * Math.SQRT2, 9);
    expect(diamond.x).toBeCloseTo(40, 9);
    expect(shapeExtent(spec('circle', 77, { stroke: '#000', strokeWidth: 2 }))).toEqual({ x: 39, y: 39, w: 22, h: 22 });
  });

  it('clips a shape cut by the border to the part inside', () => {
    // A diamond centred 5 px left of the image: inside, it spans x 0..5 and is 10 px tall at the border.
    const cut = clippedExtent(spec('square', 45, { cx: -5 }), { x: 0, y: 0, w: 100, h: 100 })!;
    expect(cut.x).toBeCloseTo(0, 9);
    expect(cut.w).toBeCloseTo(5, 9);
    expect(cut.y).toBeCloseTo(45, 9);
    expect(cut.h).toBeCloseTo(10, 9);
    expect(clippedExtent(spec('circle', 0, { cx: -11 }), { x: 0, y: 0, w: 100, h: 100 })).toBeNull();
  });

  it('matches the pixels sharp draws, for every class at odd rotations', async () => {
    for (const cls of SHAPE_CLASSES) {
      for (const rotation of [0, 17, 45, 110]) {
        const s: ShapeSpec = { cls, cx: 61.3, cy: 48.7, r: 31, rotation, fill: '#fff', stroke: '#fff', strokeWidth: 3 };
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="112"><rect width="128" height="112"/>${shapeSvg(s)}</svg>`;
        const { data, info } = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer({ resolveWithObject: true });
        let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
        for (let y = 0; y < info.height; y++) {
          for (let x = 0; x < info.width; x++) {
            if (data[y * info.width + x]! < 64) continue; // at least a quarter of the pixel covered
            [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
          }
        }
        const e = shapeExtent(s);
        const where = `${cls} at ${rotation} deg`;
        expect(Math.abs(x0 - e.x), where).toBeLessThanOrEqual(1);
        expect(Math.abs(y0 - e.y), where).toBeLessThanOrEqual(1);
        expect(Math.abs(x1 - (e.x + e.w)), where).toBeLessThanOrEqual(1);
        expect(Math.abs(y1 - (e.y + e.h)), where).toBeLessThanOrEqual(1);
      }
    }
  });

  it('rests on a reproducible PRNG', () => {
    const x = new Rng(1, 'a');
    const y = new Rng(1, 'a');
    const seq = Array.from({ length: 5 }, () => x.next());
    expect(Array.from({ length: 5 }, () => y.next())).toEqual(seq);
    expect(new Rng(2, 'a').next()).not.toBe(seq[0]);
  });
});
