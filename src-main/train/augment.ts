/**
 * Ultralytics-style image augmentation on sharp (its libuv thread pool decodes and warps off the JS thread):
 * letterbox, HSV jitter, horizontal flip, random scale/translate, and 4-image mosaic. Every random choice
 * comes from the caller's seeded Rng, so a (seed, epoch, index) triple always gives the same sample.
 * Boxes are [cls, x, y, w, h] in pixels of the output image.
 */
import sharp from 'sharp';
import type { Rng } from '../util/random.js';

export interface LabeledBox {
  cls: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Loss weight (pseudo-labels may count less). */
  weight?: number;
}

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

export interface Sample {
  /** RGB, CHW, float32 in [0, 1]. */
  data: Float32Array;
  size: number;
  boxes: LabeledBox[];
}

const PAD = 114;

/** An image that cannot be decoded; `file` says which one (a mosaic reads four). */
export class DecodeError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** Decodes (EXIF-rotated) to raw RGB. Throws DecodeError naming the file on unreadable images. */
export async function decode(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await sharp(file, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (e) {
    throw new DecodeError(file, `${file}: cannot decode (${(e as Error).message})`);
  }
}

/**
 * Places an RGB image scaled by `s` with its top-left at (dx, dy) onto a `size` x `size` canvas filled with
 * gray 114 (parts outside are cut), and maps its boxes. Boxes keep only what lies inside the canvas, and are
 * dropped when less than 2 px wide/high or less than 10% of their area remains (Ultralytics' box_candidates).
 */
async function place(
  img: { data: Buffer; width: number; height: number },
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
  return mapBoxes(boxes, img.width, img.height, w, h, x0, y0, size, flip);
}

/** Boxes of a `width` x `height` image drawn at `w` x `h` with its top-left at (x0, y0) on a `size` canvas. */
function mapBoxes(
  boxes: readonly LabeledBox[],
  width: number,
  height: number,
  w: number,
  h: number,
  x0: number,
  y0: number,
  size: number,
  flip: boolean,
): LabeledBox[] {
  const sx = w / width;
  const sy = h / height;
  const out: LabeledBox[] = [];
  for (const b of boxes) {
    const bx = flip ? width - b.x - b.w : b.x;
    const x1 = bx * sx + x0;
    const y1 = b.y * sy + y0;
    const x2 = x1 + b.w * sx;
    const y2 = y1 + b.h * sy;
    const cx1 = Math.max(0, x1);
    const cy1 = Math.max(0, y1);
    const cx2 = Math.min(size, x2);
    const cy2 = Math.min(size, y2);
    const cw = cx2 - cx1;
    const ch = cy2 - cy1;
    if (cw < 2 || ch < 2 || (cw * ch) / Math.max(1e-9, (x2 - x1) * (y2 - y1)) < 0.1) continue;
    out.push({ ...b, x: cx1, y: cy1, w: cw, h: ch });
  }
  return out;
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

function toChw(px: Uint8Array, size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  hwcToChw(px, size, out, 0, false);
  return out;
}

/** Packed RGB bytes to planar floats in [0, 1], written into `out` at `offset`; `flip` mirrors left-right. */
export function hwcToChw(px: Uint8Array, size: number, out: Float32Array, offset: number, flip: boolean): void {
  const n = size * size;
  const k = 1 / 255;
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      const j = (row + (flip ? size - 1 - x : x)) * 3;
      const i = offset + row + x;
      out[i] = px[j]! * k;
      out[n + i] = px[j + 1]! * k;
      out[2 * n + i] = px[j + 2]! * k;
    }
  }
}

export interface Source {
  file: string;
  boxes: LabeledBox[];
  /** Size after EXIF orientation, when known (the project stores it): letterbox then skips reading the header. */
  width?: number;
  height?: number;
}

/** Letterbox only (validation and prediction): fit inside `size`, centred, gray padding. */
export async function letterbox(
  src: Source,
  size: number,
): Promise<Sample & { scale: number; padX: number; padY: number }> {
  const r = await letterboxPixels(src, size);
  return { data: toChw(r.pixels, size), size, boxes: r.boxes, scale: r.scale, padX: r.padX, padY: r.padY };
}

/** A box (x, y, w, h) in letterboxed network-input pixels back to original image pixels. */
export function unletterbox(
  box: readonly [number, number, number, number],
  lb: { scale: number; padX: number; padY: number },
): [number, number, number, number] {
  return [(box[0] - lb.padX) / lb.scale, (box[1] - lb.padY) / lb.scale, box[2] / lb.scale, box[3] / lb.scale];
}

/** Letterbox as packed RGB bytes (HWC): callers that build batches convert once, straight into the batch. */
export async function letterboxPixels(
  src: Source,
  size: number,
): Promise<{ pixels: Buffer; boxes: LabeledBox[]; scale: number; padX: number; padY: number }> {
  // One native pass (decode, resize, pad) instead of decode-then-place: prediction and pseudo-labeling run this
  // once per image next to inference, so its CPU time is the pipeline's overhead.
  // With the size known the whole letterbox is one call into sharp's thread pool, which matters when
  // onnxruntime holds the JS thread: queued work then still runs beside inference.
  let { width = 0, height = 0 } = src;
  if (!width || !height) {
    let meta: sharp.Metadata;
    try {
      meta = await sharp(src.file).metadata();
    } catch (e) {
      throw new DecodeError(src.file, `${src.file}: cannot decode (${(e as Error).message})`);
    }
    const turned = (meta.orientation ?? 1) >= 5; // EXIF orientations 5-8 swap width and height
    width = (turned ? meta.height : meta.width) ?? 0;
    height = (turned ? meta.width : meta.height) ?? 0;
  }
  if (!width || !height) throw new DecodeError(src.file, `${src.file}: cannot decode (no image size)`);
  const s = Math.min(size / width, size / height);
  const w = Math.max(1, Math.round(width * s));
  const h = Math.max(1, Math.round(height * s));
  const left = Math.round((size - w) / 2);
  const top = Math.round((size - h) / 2);
  let px: Buffer;
  try {
    px = await sharp(src.file, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .resize(w, h, { kernel: 'linear', fit: 'fill' })
      .extend({ top, bottom: size - h - top, left, right: size - w - left, background: { r: PAD, g: PAD, b: PAD } })
      .raw()
      .toBuffer();
  } catch (e) {
    throw new DecodeError(src.file, `${src.file}: cannot decode (${(e as Error).message})`);
  }
  if (px.length !== size * size * 3) throw new DecodeError(src.file, `${src.file}: cannot decode (unexpected layout)`);
  const boxes = mapBoxes(src.boxes, width, height, w, h, left, top, size, false);
  return { pixels: px, boxes, scale: s, padX: left, padY: top };
}

/**
 * One training sample: with probability `hyp.mosaic` a 2x2 mosaic of `src` and three `others` around a random
 * centre, else one image with random scale and translation; then flip and HSV jitter.
 */
export async function augment(
  src: Source,
  others: Source[],
  size: number,
  rng: Rng,
  hyp: Hyp = DEFAULT_HYP,
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
