import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { realInside, realPath, unreadableFile } from '../util/files.js';
import { thumbnailFor } from '../vision/thumbnails.js';
import type { Session } from './session.js';

export type MediaKind = 'image' | 'thumb';

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
};

/**
 * Serves image bytes to the renderer by image id only: a file that is not registered in the open
 * project cannot be named, so neither transport (Electron protocol, browser-mode HTTP) can be used
 * to read arbitrary files.
 */
export async function resolveMedia(
  session: Session,
  kind: MediaKind,
  imageId: number,
): Promise<{ file: string; contentType: string }> {
  const store = session.requireProject();
  const image = store.images.get(imageId);
  const file = store.absolutePath(image.path);
  if (!fs.existsSync(file)) throw new StarlingError('NOT_FOUND', `${file}: image file is missing`);
  // Only the registered file itself, or a link to a file inside the project: a registered image replaced by a
  // link to /etc/passwd is not served. And only regular files (a device or a FIFO never ends).
  const real = realPath(file);
  if (real !== path.resolve(file) && !realInside(store.root, file))
    throw new StarlingError('FORBIDDEN', `${file}: is a link to ${real}, outside the project; not served`);
  const refused = unreadableFile(file);
  if (refused) throw new StarlingError('FORBIDDEN', `${file}: ${refused}; not served`);
  if (kind === 'thumb') {
    const thumb = await thumbnailFor(store.cacheDir('thumbs'), real, image.hash);
    return { file: thumb, contentType: 'image/webp' };
  }
  // The checked real file is what is read.
  return { file: real, contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' };
}

/** Parses `image/12` or `thumb/12` (the path part of a media URL). */
export function parseMediaPath(p: string): { kind: MediaKind; id: number } | null {
  const m = /^\/?(image|thumb)\/(\d+)$/.exec(p);
  if (!m) return null;
  return { kind: m[1] as MediaKind, id: Number(m[2]) };
}
