import fs from 'node:fs';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateSample } from '../../src-main/vision/sample/generate.js';
import { Rng } from '../../src-main/util/random.js';
import { SHAPE_CLASSES, shapeExtent } from '../../src-main/vision/sample/shapes.js';
import { tempDir } from '../helpers.js';

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

describe('sample generator', () => {
  it('writes real images whose boxes lie inside them', async () => {
    const r = await generateSample(a.dir, { seed: 5, counts: small });
    expect(r.dataset.images).toHaveLength(12);
    expect(r.pool.images).toHaveLength(3);
    expect(r.pool.images.every((im) => im.split === 'train')).toBe(true);
    expect(r.classes).toEqual([...SHAPE_CLASSES]);
    for (const im of [...r.dataset.images, ...r.pool.images]) {
      const meta = await sharp(im.file).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', im.width, im.height]);
      for (const box of im.boxes) {
        expect(box.w).toBeGreaterThan(0);
        expect(box.h).toBeGreaterThan(0);
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.w).toBeLessThanOrEqual(im.width! + 1e-9);
        expect(box.y + box.h).toBeLessThanOrEqual(im.height! + 1e-9);
      }
    }
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const r1 = await generateSample(a.dir, { seed: 7, counts: { train: 4, pool: 1, val: 1, test: 1 } });
    const r2 = await generateSample(b.dir, { seed: 7, counts: { train: 4, pool: 1, val: 1, test: 1 } });
    const strip = (r: typeof r1) => r.dataset.images.map((im) => ({ ...im, file: im.file.split('/images/')[1] }));
    expect(strip(r2)).toEqual(strip(r1));
    r1.files.forEach((f, i) => expect(fs.readFileSync(r2.files[i]!).equals(fs.readFileSync(f))).toBe(true));
    const r3 = await generateSample(`${b.dir}/other`, { seed: 8, counts: { train: 4, pool: 1, val: 1, test: 1 } });
    expect(strip(r3)).not.toEqual(strip(r1));
  });

  it('draws every class, small and large objects', async () => {
    const r = await generateSample(a.dir, { seed: 0, counts: { train: 30, pool: 0, val: 0, test: 0 } });
    const boxes = r.dataset.images.flatMap((im) => im.boxes);
    expect(new Set(boxes.map((x) => x.classIndex)).size).toBe(SHAPE_CLASSES.length);
    const sides = boxes.map((x) => Math.sqrt(x.w * x.h));
    expect(Math.min(...sides)).toBeLessThan(16);
    expect(Math.max(...sides)).toBeGreaterThan(100);
  });

  it('stops when cancelled', async () => {
    const ctrl = new AbortController();
    const p = generateSample(a.dir, {
      counts: { train: 200, pool: 0, val: 0, test: 0 },
      signal: ctrl.signal,
      onProgress: (done) => done === 3 && ctrl.abort(),
    });
    await expect(p).rejects.toThrow(/cancelled/);
    expect(fs.readdirSync(`${a.dir}/images/train`).length).toBeLessThan(20);
  });
});

describe('shape geometry', () => {
  it('gives the exact box of a rotated shape', () => {
    const square = shapeExtent({ cls: 'square', cx: 50, cy: 50, r: 10, rotation: 0, fill: '#000' });
    // A square with circumradius 10 at 0 deg (vertices at 45 deg) has side 10*sqrt(2).
    expect(square.w).toBeCloseTo(10 * Math.SQRT2, 9);
    const diamond = shapeExtent({ cls: 'square', cx: 50, cy: 50, r: 10, rotation: 45, fill: '#000' });
    expect(diamond.w).toBeCloseTo(20, 9);
    expect(diamond.x).toBeCloseTo(40, 9);
    const circle = shapeExtent({
      cls: 'circle',
      cx: 5,
      cy: 6,
      r: 3,
      rotation: 77,
      fill: '#000',
      stroke: '#fff',
      strokeWidth: 2,
    });
    expect(circle).toEqual({ x: 1, y: 2, w: 8, h: 8 });
  });

  it('has a reproducible PRNG', () => {
    const x = new Rng(1, 'a');
    const y = new Rng(1, 'a');
    const seq = Array.from({ length: 5 }, () => x.next());
    expect(Array.from({ length: 5 }, () => y.next())).toEqual(seq);
    expect(new Rng(2, 'a').next()).not.toBe(seq[0]);
  });
});
