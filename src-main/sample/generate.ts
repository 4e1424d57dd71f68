import path from 'node:path';
import type { Dataset, DatasetImage } from '../formats/dataset.js';
import { mapLimit } from '../util/map-limit.js';
import type { Split } from '../store/types.js';
import { Rng } from '../util/random.js';
import { foregroundSvg, layoutScene, sceneBoxes } from './layout.js';
import { meanColour, rasterize, renderImage } from './render.js';
import { SHAPE_CLASSES } from './shapes.js';
import type { SizeMix } from './size-mix.js';

export interface SampleCounts {
  train: number;
  pool: number;
  val: number;
  test: number;
}

export const DEFAULT_SAMPLE_COUNTS: SampleCounts = { train: 240, pool: 160, val: 80, test: 80 };

export interface GenerateOptions {
  seed?: number;
  /** How object sizes are drawn (sample/size-mix.ts); default `coco`. */
  sizes?: SizeMix;
  counts?: SampleCounts;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SampleResult {
  /** Labeled train, val and test images. */
  dataset: Dataset;
  /** The pool (split train) with its true boxes: the caller stores it unlabeled and keeps the boxes aside. */
  pool: Dataset;
  classes: string[];
  files: string[];
}

/** Renders in flight at once: enough to keep two cores busy while one image is being encoded. */
const CONCURRENCY = 3;
const PARTS = ['train', 'pool', 'val', 'test'] as const;

/** Where image `index` of `part` is written, relative to the sample directory. */
export function sampleImagePath(part: keyof SampleCounts, index: number): string {
  return path.join('images', part, `${part}_${String(index).padStart(5, '0')}.jpg`);
}

/**
 * Draws one image and returns its labels. Each image has its own PRNGs derived from (seed, part, index), so
 * the order renders finish in cannot change what is drawn.
 */
async function drawImage(
  dir: string,
  seed: number,
  sizes: SizeMix,
  part: keyof SampleCounts,
  index: number,
): Promise<DatasetImage> {
  const scene = layoutScene(new Rng('starling-sample', seed, part, index), sizes);
  const background = await rasterize(scene.backgroundSvg);
  const foreground = foregroundSvg(scene, (box) => meanColour(background, box));
  const file = path.join(dir, sampleImagePath(part, index));
  await renderImage(background, foreground, scene, new Rng('starling-sample-noise', seed, part, index), file);
  const split: Split = part === 'pool' ? 'train' : part;
  return { file, split, width: scene.width, height: scene.height, labeled: true, boxes: sceneBoxes(scene) };
}

/**
 * Draws the sample dataset into `<dir>/images/<part>/`. Deterministic: the same seed gives byte-identical
 * files and identical datasets. Throws Error('cancelled') once `signal` aborts (renders in flight finish).
 */
export async function generateSample(dir: string, opts: GenerateOptions = {}): Promise<SampleResult> {
  const seed = opts.seed ?? 0;
  const counts = opts.counts ?? DEFAULT_SAMPLE_COUNTS;
  const plan = PARTS.flatMap((part) => Array.from({ length: counts[part] }, (_, index) => ({ part, index })));
  if (opts.signal?.aborted) throw new Error('cancelled');
  let done = 0;
  const images = await mapLimit(
    plan,
    CONCURRENCY,
    async ({ part, index }) => {
      const image = await drawImage(dir, seed, opts.sizes ?? 'coco', part, index);
      opts.onProgress?.(++done, plan.length);
      return image;
    },
    opts.signal,
  );
  if (opts.signal?.aborted) throw new Error('cancelled');
  const classes = [...SHAPE_CLASSES];
  const inPool = plan.map((p) => p.part === 'pool');
  return {
    dataset: { classes, images: images.filter((_, i) => !inPool[i]) },
    pool: { classes, images: images.filter((_, i) => inPool[i]) },
    classes,
    files: images.map((im) => im.file),
  };
}
