import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src-main/store/project.js';
import { letterbox, type Sample, type Source } from '../../src-main/inference/letterbox.js';
import { augment, DEFAULT_HYP, type Hyp } from '../../src-main/train/augment.js';
import { splitTruth } from '../../src-main/eval/ground-truth.js';
import { Loader, projectSources, type Batch } from '../../src-main/train/loader.js';
import { createLoader, ThreadedLoader } from '../../src-main/train/threaded-loader.js';
import { Rng } from '../../src-main/util/random.js';
import { cacheBytes, cacheDecision, cachingDecoder } from '../../src-main/train/image-cache.js';
import { tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
const sources: Source[] = [];
const NO_AUG: Hyp = { hsvH: 0, hsvS: 0, hsvV: 0, fliplr: 0, scale: 0, translate: 0, mosaic: 0 };

/** A black image with one white rectangle: after any geometric augmentation, its box must still be white. */
async function rectImage(file: string, w: number, h: number, box: [number, number, number, number]): Promise<Source> {
  const [x, y, bw, bh] = box;
  await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } })
    .composite([{ input: { create: { width: bw, height: bh, channels: 3, background: '#fff' } }, left: x, top: y }])
    .png()
    .toFile(file);
  return { file, boxes: [{ cls: 1, x, y, w: bw, h: bh }] };
}

/** Mean of the red channel inside a box (1 = white). */
function meanInside(s: Sample, b: { x: number; y: number; w: number; h: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.ceil(b.y + 1); y < Math.floor(b.y + b.h - 1); y++)
    for (let x = Math.ceil(b.x + 1); x < Math.floor(b.x + b.w - 1); x++) {
      sum += s.data[y * s.size + x]!;
      n++;
    }
  return n ? sum / n : NaN;
}

beforeAll(async () => {
  tmp = tempDir();
  sources.push(await rectImage(`${tmp.dir}/a.png`, 200, 100, [20, 30, 40, 20]));
  sources.push(await rectImage(`${tmp.dir}/b.png`, 120, 160, [60, 40, 30, 50]));
  sources.push(await rectImage(`${tmp.dir}/c.png`, 100, 100, [10, 10, 50, 50]));
  sources.push(await rectImage(`${tmp.dir}/d.png`, 160, 90, [100, 20, 40, 40]));
});
afterAll(() => tmp.cleanup());

describe('augmentation', () => {
  it('letterboxes with gray padding and maps boxes onto the object', async () => {
    const s = await letterbox(sources[0]!, 64);
    expect(s.scale).toBeCloseTo(0.32, 9);
    expect(s.padY).toBe(16);
    expect(s.boxes[0]!.x).toBeCloseTo(6.4, 6);
    expect(s.boxes[0]!.y).toBeCloseTo(25.6, 6);
    expect(s.boxes[0]!.w).toBeCloseTo(12.8, 6);
    expect(meanInside(s, s.boxes[0]!)).toBeGreaterThan(0.95);
    expect(s.data[0]).toBeCloseTo(114 / 255, 6); // padding
  });

  it('flips image and boxes together', async () => {
    const s = await augment(sources[0]!, [], 64, new Rng('flip'), { ...NO_AUG, fliplr: 1 });
    const b = s.boxes[0]!;
    expect(b.x).toBeCloseTo(64 - (0.32 * 20 + 0) - 12.8, 4);
    expect(meanInside(s, b)).toBeGreaterThan(0.95);
  });

  it('builds mosaics whose boxes still cover the objects, flipped or not', async () => {
    for (let k = 0; k < 6; k++) {
      const s = await augment(sources[k % 4]!, sources, 96, new Rng('mosaic', k), {
        ...DEFAULT_HYP,
        hsvH: 0,
        hsvS: 0,
        hsvV: 0,
        mosaic: 1,
        fliplr: 0.5,
      });
      expect(s.boxes.length).toBeGreaterThan(0);
      for (const b of s.boxes) {
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.x + b.w).toBeLessThanOrEqual(96 + 1e-9);
        if (b.w > 6 && b.h > 6) expect(meanInside(s, b)).toBeGreaterThan(0.9);
      }
    }
  });

  it('is deterministic for a seed', async () => {
    const a = await augment(sources[1]!, sources, 64, new Rng('det', 1));
    const b = await augment(sources[1]!, sources, 64, new Rng('det', 1));
    const c = await augment(sources[1]!, sources, 64, new Rng('det', 2));
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    expect(a.boxes).toEqual(b.boxes);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(c.data.buffer))).toBe(false);
  });
});

describe('image cache', () => {
  it('keeps each image decoded once, shrunk to the input size, and augments to the same boxes on the object', async () => {
    const decode = cachingDecoder(64);
    const first = await decode(sources[0]!.file);
    expect([first.width, first.height, first.sourceWidth, first.sourceHeight]).toEqual([64, 32, 200, 100]);
    expect(await decode(sources[0]!.file)).toBe(first); // kept, not decoded again
    for (const [k, src] of sources.entries()) {
      const hyp = { ...DEFAULT_HYP, hsvH: 0, hsvS: 0, hsvV: 0, mosaic: k % 2 };
      const plain = await augment(src, sources, 64, new Rng('cache', k), hyp);
      const cached = await augment(src, sources, 64, new Rng('cache', k), hyp, decode);
      expect(cached.boxes).toEqual(plain.boxes);
      for (const b of cached.boxes) if (b.w > 6 && b.h > 6) expect(meanInside(cached, b)).toBeGreaterThan(0.9);
    }
  });

  it('forgets a failed decode, so a file fixed later is read again', async () => {
    const file = `${tmp.dir}/late.png`;
    fs.writeFileSync(file, 'not an image');
    const decode = cachingDecoder(64);
    await expect(decode(file)).rejects.toThrow(/late\.png: cannot decode/);
    await rectImage(file, 80, 80, [0, 0, 10, 10]);
    expect((await decode(file)).width).toBe(64);
  });

  it('caches under auto only when the images fit in half the free memory', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ file: `${i}.jpg`, boxes: [], width: 1280, height: 960 }));
    // Stored at 640 x 480: 0.92 MB each.
    expect(cacheBytes(many, 640)).toBe(1000 * 640 * 480 * 3);
    expect(cacheDecision('auto', many, 640, 4 * 2 ** 30).cache).toBe(true);
    const tight = cacheDecision('auto', many, 640, 1 * 2 ** 30);
    expect(tight.cache).toBe(false);
    expect(tight.reason).toMatch(/879 MB would exceed 512 MB/);
    expect(cacheDecision('ram', many, 640, 1 * 2 ** 30).cache).toBe(true);
    expect(cacheDecision('off', many, 640, 64 * 2 ** 30).cache).toBe(false);
  });
});

describe('loader', () => {
  it('batches NCHW images and padded targets, shuffles per epoch from the seed, and skips bad images once', async () => {
    const broken = `${tmp.dir}/broken.jpg`;
    fs.writeFileSync(broken, 'not a jpeg');
    const bad: string[] = [];
    const loader = new Loader([...sources, { file: broken, boxes: [] }], {
      imgsz: 64,
      batch: 5,
      seed: 3,
      onBadImage: (f) => bad.push(f),
    });
    expect(loader.order(0)).toEqual(
      new Loader(sources.concat({ file: broken, boxes: [] }), { imgsz: 64, batch: 5, seed: 3 }).order(0),
    );
    expect(loader.order(0)).not.toEqual(loader.order(1));
    const batches = [];
    for await (const b of loader.epoch(0)) batches.push(b);
    const seen = batches.reduce((n, b) => n + b.files.length, 0);
    expect(seen).toBe(4);
    expect(bad).toEqual([broken]);
    const b = batches[0]!;
    expect(b.images.length).toBe(b.files.length * 3 * 64 * 64);
    expect(b.targets.length).toBe(b.files.length * b.maxBoxes * 6);
    // Second epoch: the broken file is not tried again.
    for await (const _ of loader.epoch(1)) void _;
    expect(bad).toEqual([broken]);
  });

  it('runs in a worker thread with the same batches as in-thread, reporting bad images from there', async () => {
    const broken = `${tmp.dir}/broken2.jpg`;
    fs.writeFileSync(broken, 'not a jpeg either');
    const all = [...sources, { file: broken, boxes: [] }];
    const o = { imgsz: 64, batch: 2, seed: 5, epochs: 3, closeMosaic: 1 };
    const bad: string[] = [];
    const threaded = createLoader(all, { ...o, onBadImage: (f) => bad.push(f) });
    expect(threaded).toBeInstanceOf(ThreadedLoader);
    const inThread = new Loader(all, o);
    try {
      for (const epoch of [0, 2]) {
        const a: Batch[] = [];
        const b: Batch[] = [];
        for await (const x of threaded.epoch(epoch)) a.push(x);
        for await (const x of inThread.epoch(epoch)) b.push(x);
        expect(a.map((x) => x.files)).toEqual(b.map((x) => x.files));
        a.forEach((x, i) => {
          expect(Array.from(x.targets)).toEqual(Array.from(b[i]!.targets));
          expect(x.images.every((v, k) => v === b[i]!.images[k])).toBe(true);
        });
      }
      expect(bad).toEqual([broken]);
    } finally {
      await threaded.close();
    }
  });

  it('fails an epoch with a clear error when its worker thread dies, instead of waiting forever', async () => {
    const threaded = createLoader(sources, { imgsz: 64, batch: 1, seed: 1, epochs: 1 });
    expect(threaded).toBeInstanceOf(ThreadedLoader);
    const it = threaded.epoch(0);
    await it.next();
    // As if the thread were killed from outside (not through close()).
    await (threaded as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(
      (async () => {
        for (;;) if ((await it.next()).done) return;
      })(),
    ).rejects.toThrow(/data loader: its worker thread stopped \(exit code 1\)/);
    await threaded.close();
  });

  it('reads accepted boxes from a project, and pending ones only when asked, with their weight', () => {
    const store = ProjectStore.create(`${tmp.dir}/proj`);
    const [c] = [store.classes.create('rect')];
    const [i1, i2] = store.images.addMany([
      { path: sources[0]!.file, hash: 'a', width: 200, height: 100, status: 'labeled' },
      { path: sources[1]!.file, hash: 'b', width: 120, height: 160, status: 'unlabeled' },
    ]);
    store.annotations.addMany([
      { imageId: i1!, classId: c!.id, x: 20, y: 30, w: 40, h: 20 },
      { imageId: i2!, classId: c!.id, x: 60, y: 40, w: 30, h: 50, source: 'teacher:1', score: 0.9, review: 'pending' },
    ]);
    expect(projectSources(store).sources.map((s) => s.boxes.length)).toEqual([1]);
    const withPending = projectSources(store, { includePending: true, pendingWeight: 0.3 }).sources;
    expect(withPending.map((s) => s.boxes[0]!.weight)).toEqual([1, 0.3]);
    store.close();
  });

  it('leaves out an image while boxes on it wait for review, and takes it once they are decided', () => {
    const store = ProjectStore.create(`${tmp.dir}/proj-review`);
    const c = store.classes.create('rect');
    const [id] = store.images.addMany([{ path: sources[0]!.file, hash: 'a', width: 200, height: 100 }]);
    const pending = {
      imageId: id!,
      classId: c.id,
      w: 20,
      h: 20,
      source: 'teacher:1',
      score: 0.8,
      review: 'pending' as const,
    };
    const [p1, p2] = store.annotations.addMany([
      { ...pending, x: 10, y: 10 },
      { ...pending, x: 100, y: 50 },
    ]);
    // Accepting one box in the annotator: the other still waits, so the image is neither labeled nor trained on
    // (its unreviewed object would be learned as background).
    store.annotations.edit(id!, [{ op: 'update', id: p1!, review: 'accepted' }]);
    expect(store.images.get(id!).status).toBe('unlabeled');
    expect(projectSources(store).sources).toHaveLength(0);
    expect(projectSources(store, { includePending: true }).sources[0]!.boxes).toHaveLength(2);
    // An image labeled earlier that a teacher ran over again (`--only all`) waits too.
    store.images.setStatus([id!], 'labeled');
    expect(projectSources(store).sources).toHaveLength(0);
    // Validation and evaluation score the accepted boxes of labeled images (eval/ground-truth.ts).
    store.images.setSplit([id!], 'val');
    expect(splitTruth(store, 'val').images[0]!.truths).toHaveLength(1);
    store.images.setStatus([id!], 'unlabeled');
    expect(splitTruth(store, 'val').images).toHaveLength(0);
    store.images.setSplit([id!], 'train');
    store.annotations.edit(id!, [{ op: 'update', id: p2!, review: 'rejected' }]);
    // Nothing waits now, but deciding boxes completes no image: it trains once it is marked done.
    expect(projectSources(store).sources).toHaveLength(0);
    store.images.markDone([id!], true);
    expect(store.images.get(id!).status).toBe('reviewed');
    expect(projectSources(store).sources.map((s) => s.boxes.length)).toEqual([1]);
    store.close();
  });
});
