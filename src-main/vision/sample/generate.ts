import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Dataset, DatasetBox, DatasetImage } from '../../formats/dataset.js';
import { mapLimit } from '../../jobs/map-limit.js';
import type { Split } from '../../store/types.js';
import { background, clutter, hsl } from './backgrounds.js';
import { Rng } from '../../util/random.js';
import { SHAPE_CLASSES, shapeExtent, shapeSvg, type Extent, type ShapeSpec } from './shapes.js';

export interface SampleCounts {
  train: number;
  pool: number;
  val: number;
  test: number;
}

export const DEFAULT_SAMPLE_COUNTS: SampleCounts = { train: 240, pool: 160, val: 80, test: 80 };

export interface GenerateOptions {
  seed?: number;
  counts?: SampleCounts;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SampleResult {
  /** Labeled train, val and test images. */
  dataset: Dataset;
  /** The unlabeled pool (split train) with its true boxes: the caller hides them. */
  pool: Dataset;
  classes: string[];
  files: string[];
}

/** A placed object may hide at most this share of any earlier object's box, so every drawn object stays findable. */
const MAX_OCCLUSION = 0.5;
/** An object cut by the border keeps at least this share of its box inside the image. */
const MIN_INSIDE = 0.45;
const MIN_OBJECT_PX = 8;

const area = (e: Extent) => Math.max(0, e.w) * Math.max(0, e.h);
function intersect(a: Extent, b: Extent): Extent {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return { x, y, w: Math.min(a.x + a.w, b.x + b.w) - x, h: Math.min(a.y + a.h, b.y + b.h) - y };
}

interface Scene {
  svg: string;
  width: number;
  height: number;
  boxes: DatasetBox[];
  blur: { length: number; angle: number } | null;
  noiseSigma: number;
  quality: number;
}

/** Lays out one image: background, clutter, then shapes placed so that each stays visible and labeled. */
function composeScene(rng: Rng): Scene {
  const landscape = rng.bool(0.7);
  const long = rng.int(320, 512);
  const short = Math.round(long * rng.range(0.62, 0.8));
  const width = landscape ? long : short;
  const height = landscape ? short : long;
  const bg = background(rng, width, height);
  const placed: { spec: ShapeSpec; box: Extent; full: Extent; covered: number }[] = [];
  const nObjects = rng.bool(0.06) ? 0 : rng.int(1, 8);
  for (let k = 0; k < nObjects; k++) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const maxSize = Math.min(width, height) / 2;
      const size = rng.logRange(MIN_OBJECT_PX, maxSize); // target box side
      const cls = rng.pick(SHAPE_CLASSES);
      // Contrast with the background most of the time; sometimes a hard, low-contrast case.
      const lightness = rng.bool(0.85)
        ? bg.lightness > 50
          ? rng.range(5, Math.max(6, bg.lightness - 30))
          : rng.range(Math.min(94, bg.lightness + 30), 95)
        : rng.range(10, 90);
      const spec: ShapeSpec = {
        cls,
        cx: rng.range(-0.1 * size, width + 0.1 * size),
        cy: rng.range(-0.1 * size, height + 0.1 * size),
        r: size / 2,
        rotation: rng.range(0, 360),
        fill: hsl(rng.range(0, 360), rng.range(20, 95), lightness),
        ...(rng.bool(0.3) ? { stroke: hsl(rng.range(0, 360), 50, rng.range(5, 95)), strokeWidth: Math.max(1, size * 0.04) } : {}),
      };
      const full = shapeExtent(spec);
      const box = intersect(full, { x: 0, y: 0, w: width, h: height });
      if (box.w < MIN_OBJECT_PX * 0.75 || box.h < MIN_OBJECT_PX * 0.75 || area(box) < MIN_INSIDE * area(full)) continue;
      const hides = placed.map((p) => area(intersect(p.box, box)) / area(p.box));
      if (placed.some((p, i) => p.covered + hides[i]! > MAX_OCCLUSION)) continue;
      placed.forEach((p, i) => (p.covered += hides[i]!));
      placed.push({ spec, box, full, covered: 0 });
      break;
    }
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs>${bg.defs}</defs>${bg.body}${clutter(rng, width, height, bg.lightness)}` +
    placed.map((p) => shapeSvg(p.spec)).join('') +
    `</svg>`;
  return {
    svg,
    width,
    height,
    boxes: placed.map((p) => ({ classIndex: SHAPE_CLASSES.indexOf(p.spec.cls), ...p.box })),
    blur: rng.bool(0.2) ? { length: rng.int(3, 7), angle: rng.range(0, Math.PI) } : null,
    noiseSigma: rng.bool(0.35) ? rng.range(3, 14) : 0,
    quality: rng.int(70, 95),
  };
}

/** A normalized line kernel for motion blur of `length` pixels at `angle`. */
function motionKernel(length: number, angle: number): { width: number; height: number; kernel: number[] } {
  const size = length % 2 ? length : length + 1;
  const kernel = new Array<number>(size * size).fill(0);
  const c = (size - 1) / 2;
  for (let t = -c; t <= c; t += 0.25) {
    const x = Math.round(c + t * Math.cos(angle));
    const y = Math.round(c + t * Math.sin(angle));
    kernel[y * size + x] = 1;
  }
  return { width: size, height: size, kernel };
}

async function renderScene(scene: Scene, rng: Rng, file: string): Promise<void> {
  let img = sharp(Buffer.from(scene.svg)).removeAlpha();
  if (scene.blur) {
    const k = motionKernel(scene.blur.length, scene.blur.angle);
    img = sharp(await img.raw().toBuffer(), { raw: { width: scene.width, height: scene.height, channels: 3 } }).convolve({
      ...k,
      scale: k.kernel.reduce((a, b) => a + b, 0),
    });
  }
  const raw = await img.raw().toBuffer();
  if (scene.noiseSigma > 0) {
    for (let i = 0; i < raw.length; i++) raw[i] = Math.max(0, Math.min(255, Math.round(raw[i]! + scene.noiseSigma * rng.normal())));
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(raw, { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .jpeg({ quality: scene.quality, chromaSubsampling: '4:2:0' })
    .toFile(file);
}

/**
 * Draws the sample dataset into `<dir>/images/<split>/`. Deterministic: each image has its own PRNG derived
 * from (seed, split, index), so concurrency cannot change what is drawn.
 */
export async function generateSample(dir: string, opts: GenerateOptions = {}): Promise<SampleResult> {
  const seed = opts.seed ?? 0;
  const counts = opts.counts ?? DEFAULT_SAMPLE_COUNTS;
  const plan: { part: keyof SampleCounts; index: number }[] = [];
  for (const part of ['train', 'pool', 'val', 'test'] as const) {
    for (let index = 0; index < counts[part]; index++) plan.push({ part, index });
  }
  let done = 0;
  const results = await mapLimit(
    plan,
    3,
    async ({ part, index }) => {
      const rng = new Rng('starling-sample', seed, part, index);
      const scene = composeScene(rng);
      const file = path.join(dir, 'images', part, `${part}_${String(index).padStart(5, '0')}.jpg`);
      await renderScene(scene, rng, file);
      opts.onProgress?.(++done, plan.length);
      const split: Split = part === 'pool' ? 'train' : part;
      const image: DatasetImage = { file, split, width: scene.width, height: scene.height, labeled: true, boxes: scene.boxes };
      return { part, image };
    },
    opts.signal,
  );
  if (opts.signal?.aborted) throw new Error('cancelled');
  const classes = [...SHAPE_CLASSES];
  return {
    dataset: { classes, images: results.filter((r) => r.part !== 'pool').map((r) => r.image) },
    pool: { classes, images: results.filter((r) => r.part === 'pool').map((r) => r.image) },
    classes,
    files: results.map((r) => r.image.file),
  };
}
