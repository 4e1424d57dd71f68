/**
 * Object sizes in the sample: how big each drawn object should be, and the histogram of what came out.
 *
 * Sizes are measured as COCO measures them, by the square root of the box area, but in pixels of the network
 * input the demo trains at (`REFERENCE_IMGSZ`, the image letterboxed to fit), since that is what the detector
 * sees. `coco` draws the size class first with COCO's shares of instances (small under 32 px, medium 32-96,
 * large above), then a log-uniform size within it; `log-uniform` is the first sample's mix (every octave from
 * 10 px to half the short side equally likely, about 60% small), kept so the two can be compared.
 */
import type { DatasetImage } from '../formats/dataset.js';
import { histogram, type Bin } from '../util/histogram.js';
import type { Rng } from '../util/random.js';

export type SizeMix = 'coco' | 'log-uniform';
export const SIZE_MIXES: readonly SizeMix[] = ['coco', 'log-uniform'];

/** The input size the sizes refer to: the demo's. */
export const REFERENCE_IMGSZ = 320;

/**
 * The draw that gives COCO 2017's instance shares by area (41% small, 34% medium, 24% large) in the *labeled*
 * boxes. It leans to large because a large object is often cut by the border (its box then counts as medium) or
 * loses its label under later ones; these shares were fitted on 400 layouts and the histogram test checks them.
 */
const COCO_DRAW = [
  { name: 'small', share: 0.34, lo: 9, hi: 32 },
  { name: 'medium', share: 0.23, lo: 32, hi: 96 },
  { name: 'large', share: 0.43, lo: 96, hi: 168 },
] as const;

/** The first sample's range: circumdiameter in image pixels, from 10 px to half the short side. */
const LOG_UNIFORM_MIN_PX = 10;
const LOG_UNIFORM_MAX_SHARE = 0.5;

/**
 * The size to draw an object at, as the square root of its box area in image pixels (`log-uniform`: its
 * circumdiameter, as the first sample drew it). `width` and `height` are the image's.
 */
export function drawObjectSize(rng: Rng, mix: SizeMix, width: number, height: number): number {
  if (mix === 'log-uniform') return rng.logRange(LOG_UNIFORM_MIN_PX, LOG_UNIFORM_MAX_SHARE * Math.min(width, height));
  const roll = rng.float();
  let acc = 0;
  let band: (typeof COCO_DRAW)[number] = COCO_DRAW[COCO_DRAW.length - 1]!;
  for (const b of COCO_DRAW) {
    acc += b.share;
    if (roll < acc) {
      band = b;
      break;
    }
  }
  const toImage = Math.max(width, height) / REFERENCE_IMGSZ;
  // Never larger than 70% of the short side: a bigger box would be mostly cut off.
  const hi = Math.min(band.hi * toImage, 0.7 * Math.min(width, height));
  const lo = Math.min(band.lo * toImage, hi);
  return rng.logRange(lo, hi);
}

/** COCO's area classes, by the square root of the box area in pixels. */
export const COCO_SIZE_CLASSES = [
  { name: 'small', lo: 0, hi: 32 },
  { name: 'medium', lo: 32, hi: 96 },
  { name: 'large', lo: 96, hi: Infinity },
] as const;

/** Finer bins for the printed histogram (same unit). */
const HISTOGRAM_EDGES = [0, 8, 16, 24, 32, 48, 64, 96, 128, Infinity];

export interface SizeHistogram {
  imgsz: number;
  boxes: number;
  /** COCO's classes: count and share of boxes. */
  classes: { name: string; count: number; share: number }[];
  bins: Bin[];
  medianSide: number;
}

/** The sizes of `images`' boxes at input size `imgsz` (each image letterboxed to fit). */
export function sizeHistogram(images: readonly DatasetImage[], imgsz = REFERENCE_IMGSZ): SizeHistogram {
  const sides: number[] = [];
  for (const im of images) {
    if (!im.width || !im.height) continue;
    const s = imgsz / Math.max(im.width, im.height);
    for (const b of im.boxes) sides.push(Math.sqrt(b.w * b.h) * s);
  }
  const within = (lo: number, hi: number) => sides.filter((x) => x >= lo && x < hi).length;
  sides.sort((a, b) => a - b);
  return {
    imgsz,
    boxes: sides.length,
    classes: COCO_SIZE_CLASSES.map((c) => {
      const count = within(c.lo, c.hi);
      return { name: c.name, count, share: sides.length ? count / sides.length : 0 };
    }),
    bins: histogram(sides, HISTOGRAM_EDGES),
    medianSide: sides.length ? sides[Math.floor(sides.length / 2)]! : 0,
  };
}

/** The histogram as text lines: the COCO classes, then a bar per bin. */
export function formatSizeHistogram(h: SizeHistogram, label = ''): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const head =
    `${label}${h.boxes} boxes at imgsz ${h.imgsz}: ` +
    h.classes.map((c) => `${c.name} ${pct(c.share)}`).join(', ') +
    ` (median side ${h.medianSide.toFixed(0)} px)`;
  const most = Math.max(1, ...h.bins.map((b) => b.count));
  const bars = h.bins.map((b) => {
    const range = b.hi === null ? `>= ${b.lo}` : `${b.lo}-${b.hi}`;
    return `  ${range.padStart(7)} px ${'#'.repeat(Math.round((30 * b.count) / most)).padEnd(30)} ${b.count}`;
  });
  return [head, ...bars];
}
