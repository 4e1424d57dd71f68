/**
 * Ultralytics-style image augmentation on sharp (its libuv thread pool decodes and warps off the JS thread):
 * HSV jitter, horizontal flip, random scale/translate, and 4-image mosaic. Every random choice
 * comes from the caller's seeded Rng, so a (seed, epoch, index) triple always gives the same sample.
 * Boxes are [cls, x, y, w, h] in pixels of the output image.
 */
import sharp from 'sharp';
import {
  decodeImage,
  mapBoxes,
  PAD,
  toChw,
  type LabeledBox,
  type Sample,
  type Source,
} from '../inference/letterbox.js';
import type { Rng } from '../util/random.js';
import type { DecodedImage, Decoder } from './image-cache.js';

export type { LabeledBox, Sample, Source } from '../inference/letterbox.js';

export interface Hyp {
  hsvH: number;
  hsvS: number;
  hsvV: number;
  fliplr: number;
  scale: number;
  translate: number;
  mosaic: number;
}

/** Ultralytics' default augmentation gains. */
export const DEFAULT_HYP: Hyp = {
  hsvH: 0.015,
  hsvS: 0.7,
  hsvV: 0.4,
  fliplr: 0.5,
  scale: 0.5,
  translate: 0.1,
  mosaic: 1.0,
};

/**
 * Places an RGB image scaled by `s` with its top-left at (dx, dy) onto a `size` x `size` canvas filled with
 * gray 114 (parts outside are cut), and maps its boxes. Boxes keep only what lies inside the canvas, and are
 * dropped when less than 2 px wide/high or less than 10% of their area remains (Ultralytics' box_candidates).
 */
async function place(
  img: DecodedImage,
  boxes: readonly LabeledBox[],
  s: number,
  dx: number,
  dy: number,
  canvas: Buffer,
  size: number,
  flip: boolean,
): Promise<LabeledBox[]> {
  const w = Math.max(1, Math.round(img.width * s));
  const h = Math.max(1, Math.round(img.height * s));
  let pipe = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(w, h, {
    kernel: 'linear',
    fit: 'fill',
  });
  if (flip) pipe = pipe.flop();
  const px = await pipe.raw().toBuffer();
  const x0 = Math.round(dx);
  const y0 = Math.round(dy);
  for (let y = Math.max(0, -y0); y < h && y + y0 < size; y++) {
    const src = y * w * 3;
    const from = Math.max(0, -x0);
    const to = Math.min(w, size - x0);
    if (to > from) px.copy(canvas, ((y + y0) * size + x0 + from) * 3, src + from * 3, src + to * 3);
  }
  return mapBoxes(boxes, img.sourceWidth ?? img.width, img.sourceHeight ?? img.height, w, h, x0, y0, size, flip);
}

/**
 * Colour jitter with Ultralytics' HSV gains, done by sharp's modulate (native, off the JS thread): hue rotated
 * by up to hsvH of a turn, saturation and brightness multiplied by 1 +/- hsvS and 1 +/- hsvV. (sharp works in
 * LCh, not HSV: the same kind of jitter, not bit-identical to OpenCV's.)
 */
export async function hsvJitter(px: Buffer, size: number, rng: Rng, hyp: Hyp): Promise<Buffer> {
  const gh = rng.range(-1, 1) * hyp.hsvH;
  const gs = rng.range(-1, 1) * hyp.hsvS + 1;
  const gv = rng.range(-1, 1) * hyp.hsvV + 1;
  if (!hyp.hsvH && !hyp.hsvS && !hyp.hsvV) return px;
  return sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .modulate({ hue: Math.round(gh * 360), saturation: Math.max(0, gs), brightness: Math.max(0, gv) })
    .raw()
    .toBuffer();
}

/**
 * One training sample: with probability `hyp.mosaic` a 2x2 mosaic of `src` and three `others` around a random
 * centre, else one image with random scale and translation; then flip and HSV jitter. `decode` reads an image
 * (train/image-cache.ts keeps them decoded).
 */
export async function augment(
  src: Source,
  others: Source[],
  size: number,
  rng: Rng,
  hyp: Hyp = DEFAULT_HYP,
  decode: Decoder = decodeImage,
): Promise<Sample> {
  const canvas = Buffer.alloc(size * size * 3, PAD);
  let boxes: LabeledBox[] = [];
  const flip = rng.bool(hyp.fliplr);
  if (others.length >= 3 && rng.bool(hyp.mosaic)) {
    // Mosaic: a random centre splits the canvas into four quadrants, one image each, at half scale.
    const cx = rng.range(0.25, 0.75) * size;
    const cy = rng.range(0.25, 0.75) * size;
    const scale = rng.range(1 - hyp.scale, 1 + hyp.scale) * 0.5;
    const four = [src, ...others.slice(0, 3)];
    for (let q = 0; q < 4; q++) {
      const img = await decode(four[q]!.file);
      const s = (scale * size) / Math.max(img.width, img.height);
      const w = img.width * s;
      const h = img.height * s;
      const dx = q % 2 === 0 ? cx - w : cx;
      const dy = q < 2 ? cy - h : cy;
      boxes.push(...(await place(img, four[q]!.boxes, s, dx, dy, canvas, size, false)));
    }
    if (flip) {
      // Flip the finished mosaic as one image.
      mirror(canvas, size);
      boxes = boxes.map((b) => ({ ...b, x: size - b.x - b.w }));
    }
  } else {
    const img = await decode(src.file);
    const fit = size / Math.max(img.width, img.height);
    const s = fit * rng.range(1 - hyp.scale, 1 + hyp.scale);
    const w = img.width * s;
    const h = img.height * s;
    const dx = (size - w) / 2 + rng.range(-hyp.translate, hyp.translate) * size;
    const dy = (size - h) / 2 + rng.range(-hyp.translate, hyp.translate) * size;
    boxes = await place(img, src.boxes, s, dx, dy, canvas, size, flip);
  }
  return { data: toChw(await hsvJitter(canvas, size, rng, hyp), size), size, boxes };
}

function mirror(px: Buffer, size: number): void {
  const row = Buffer.alloc(size * 3);
  for (let y = 0; y < size; y++) {
    const o = y * size * 3;
    px.copy(row, 0, o, o + size * 3);
    for (let x = 0; x < size; x++) row.copy(px, o + (size - 1 - x) * 3, x * 3, x * 3 + 3);
  }
}
