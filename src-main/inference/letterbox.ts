/**
 * Images in and out of a network, for every model Starling runs (students in training and evaluation, teachers,
 * `starling predict`): decode with sharp (EXIF-rotated, RGB), letterbox into a square input (fit inside, centred,
 * gray 114 padding, as Ultralytics' LetterBox with auto=False), planar float conversion, and boxes mapped into
 * and back out of the letterboxed frame. Boxes are [x, y, w, h] in pixels.
 */
import sharp from 'sharp';
import { resizeLinear } from './resize.js';

export interface LabeledBox {
  cls: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Loss weight (pseudo-labels may count less). */
  weight?: number;
}

/** An image file with its boxes, and its size after EXIF orientation when known (the project stores it). */
export interface Source {
  file: string;
  boxes: LabeledBox[];
  /** False for an image nobody has labeled yet: in training only teachers teach it (distillation). */
  labeled?: boolean;
  width?: number;
  height?: number;
}

export interface Sample {
  /** RGB, CHW, float32 in [0, 1]. */
  data: Float32Array;
  size: number;
  boxes: LabeledBox[];
}

/** Where a letterboxed image sits in the network input: scale and padding. */
export interface LetterboxFrame {
  scale: number;
  padX: number;
  padY: number;
}

export const PAD = 114;

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
export async function decodeImage(file: string): Promise<{ data: Buffer; width: number; height: number }> {
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
 * Boxes of a `width` x `height` image drawn at `w` x `h` with its top-left at (x0, y0) on a `size` canvas. Boxes
 * keep only what lies inside the canvas, and are dropped when less than 2 px wide/high or less than 10% of their
 * area remains (Ultralytics' box_candidates).
 */
export function mapBoxes(
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

/** Packed RGB bytes (HWC) to planar floats in [0, 1]. */
export function toChw(px: Uint8Array, size: number): Float32Array {
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

/** Letterbox as planar floats (validation and prediction): fit inside `size`, centred, gray padding. */
export async function letterbox(
  src: Source,
  size: number,
): Promise<Sample & LetterboxFrame & { width: number; height: number }> {
  const { pixels, ...r } = await letterboxPixels(src, size);
  return { data: toChw(pixels, size), size, ...r };
}

/** A box (x, y, w, h) in letterboxed network-input pixels back to original image pixels. */
export function unletterbox(
  box: readonly [number, number, number, number],
  lb: LetterboxFrame,
): [number, number, number, number] {
  return [(box[0] - lb.padX) / lb.scale, (box[1] - lb.padY) / lb.scale, box[2] / lb.scale, box[3] / lb.scale];
}

/**
 * The letterbox frame Ultralytics computes for an image of `width` x `height` in a `size` square: the scale, the
 * resized size (rounded), and the padding before the image; Ultralytics pads round(d - 0.1) before and
 * round(d + 0.1) after (d = half the slack, an integer or a half), so an odd slack puts the extra pixel after.
 */
export function letterboxFrame(width: number, height: number, size: number) {
  const scale = Math.min(size / width, size / height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  return { scale, w, h, padX: Math.floor((size - w) / 2), padY: Math.floor((size - h) / 2) };
}

/** Letterbox as packed RGB bytes (HWC): callers that build batches convert once, straight into the batch. */
export async function letterboxPixels(
  src: Source,
  size: number,
): Promise<{ pixels: Buffer; boxes: LabeledBox[]; width: number; height: number } & LetterboxFrame> {
  // Decoding runs in sharp's thread pool (beside inference); the resize is OpenCV's INTER_LINEAR bit for bit
  // (resize.ts), so models trained with Ultralytics see here exactly the input they saw there.
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
  const { scale: s, w, h, padX: left, padY: top } = letterboxFrame(width, height, size);
  let decoded: { data: Buffer; width: number; height: number };
  try {
    const { data, info } = await sharp(src.file, { failOn: 'error' })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    decoded = { data, width: info.width, height: info.height };
  } catch (e) {
    throw new DecodeError(src.file, `${src.file}: cannot decode (${(e as Error).message})`);
  }
  if (decoded.width !== width || decoded.height !== height || decoded.data.length !== width * height * 3)
    throw new DecodeError(src.file, `${src.file}: cannot decode (unexpected layout)`);
  const px = Buffer.alloc(size * size * 3, PAD);
  const resized = resizeLinear(decoded.data, width, height, w, h);
  for (let y = 0; y < h; y++) px.set(resized.subarray(y * w * 3, (y + 1) * w * 3), ((top + y) * size + left) * 3);
  // Boxes scale by the letterbox gain, as Ultralytics scales labels and `unletterbox` maps predictions back: the
  // two are exact inverses (the resized size rounds, so its ratio differs by up to half a pixel).
  const boxes = mapBoxes(src.boxes, width, height, width * s, height * s, left, top, size, false);
  return { pixels: px, boxes, scale: s, padX: left, padY: top, width, height };
}

/** Flips a CHW image left-right (a copy). */
export function flipChw(data: Float32Array, size: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++) {
      const row = (c * size + y) * size;
      for (let x = 0; x < size; x++) out[row + x] = data[row + size - 1 - x]!;
    }
  return out;
}
