import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { unreadableFile } from '../util/files.js';

export interface ImageProbe {
  width: number;
  height: number;
  hash: string;
  format: string;
}

export { IMAGE_EXTENSIONS, isImageFile } from './image-files.js';

/**
 * Reads an image's size (honouring EXIF orientation, as viewers and trainers do) and a content hash.
 * Throws an Error whose message names the problem (missing, unreadable, not an image, truncated).
 */
export async function probeImage(file: string): Promise<ImageProbe> {
  // Only regular files of sane size: a symlink to /dev/zero would be read until memory runs out, a FIFO never ends.
  const refused = unreadableFile(file);
  if (refused) throw new Error(refused);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? 'image file not found' : `cannot read image (${code ?? (e as Error).message})`);
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    throw new Error(`not a readable image (${(e as Error).message})`);
  }
  if (!meta.width || !meta.height) throw new Error('image has no size');
  // Only the header is read here (fast for 100k images); truncated pixel data is caught where images
  // are decoded (thumbnails, the training loader), which report the file and skip it.
  const rotated = (meta.orientation ?? 1) >= 5;
  return {
    width: rotated ? meta.height : meta.width,
    height: rotated ? meta.width : meta.height,
    hash: crypto.createHash('sha1').update(bytes).digest('hex'),
    format: meta.format ?? 'unknown',
  };
}
