/**
 * Decoded training images kept in memory (Ultralytics' `cache=ram`): each image is decoded once, shrunk so its
 * long side is the input size (augmentation never needs more: its scale gain tops out at 1.5x of the fit, as
 * Ultralytics' cached images do), and kept for the run. A time-budgeted run then spends its CPU on the step,
 * not on JPEG decoding. `auto` caches when the images fit comfortably in free memory.
 */
import os from 'node:os';
import sharp from 'sharp';
import { decodeImage, type Source } from '../inference/letterbox.js';

export type CacheMode = 'auto' | 'ram' | 'off';

/** A decoded image; `sourceWidth`/`sourceHeight` are the file's, the frame its boxes are given in. */
export interface DecodedImage {
  data: Buffer;
  width: number;
  height: number;
  sourceWidth?: number;
  sourceHeight?: number;
}

export type Decoder = (file: string) => Promise<DecodedImage>;

/** At most this much RAM for the cache, and at most this share of what is free when training starts. */
const MAX_CACHE_BYTES = 4 * 2 ** 30;
const MAX_FREE_SHARE = 0.5;

/** Bytes the cache would hold for `sources` at input size `imgsz` (an image of unknown size counts as square). */
export function cacheBytes(sources: readonly Source[], imgsz: number): number {
  let bytes = 0;
  for (const s of sources) {
    const w = s.width ?? imgsz;
    const h = s.height ?? imgsz;
    const r = Math.min(1, imgsz / Math.max(w, h));
    bytes += Math.round(w * r) * Math.round(h * r) * 3;
  }
  return bytes;
}

/** Whether to cache, and why: the line the training log shows. */
export function cacheDecision(
  mode: CacheMode,
  sources: readonly Source[],
  imgsz: number,
  freeBytes = os.freemem(),
): { cache: boolean; reason: string } {
  const bytes = cacheBytes(sources, imgsz);
  const mb = `${(bytes / 2 ** 20).toFixed(0)} MB`;
  if (mode === 'off') return { cache: false, reason: 'image cache off: every sample is decoded from its file' };
  if (mode === 'ram') return { cache: true, reason: `caching ${sources.length} decoded images in RAM (${mb})` };
  const limit = Math.min(MAX_CACHE_BYTES, MAX_FREE_SHARE * freeBytes);
  return bytes <= limit
    ? { cache: true, reason: `caching ${sources.length} decoded images in RAM (${mb})` }
    : {
        cache: false,
        reason: `not caching images: ${mb} would exceed ${(limit / 2 ** 20).toFixed(0)} MB (data.cache "ram" forces it)`,
      };
}

/** A decoder that decodes each file once and keeps it, shrunk to fit `imgsz`. Failures are not kept. */
export function cachingDecoder(imgsz: number): Decoder {
  const kept = new Map<string, Promise<DecodedImage>>();
  return (file) => {
    let hit = kept.get(file);
    if (!hit) {
      hit = decodeFitted(file, imgsz);
      kept.set(file, hit);
      hit.catch(() => kept.delete(file));
    }
    return hit;
  };
}

async function decodeFitted(file: string, imgsz: number): Promise<DecodedImage> {
  const img = await decodeImage(file);
  const r = imgsz / Math.max(img.width, img.height);
  if (r >= 1) return img;
  const width = Math.max(1, Math.round(img.width * r));
  const height = Math.max(1, Math.round(img.height * r));
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { kernel: 'linear', fit: 'fill' })
    .raw()
    .toBuffer();
  return { data, width, height, sourceWidth: img.width, sourceHeight: img.height };
}
