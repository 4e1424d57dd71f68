import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export const THUMB_SIZE = 256;

const inFlight = new Map<string, Promise<string>>();

/**
 * Returns the path of a cached WebP thumbnail for an image, generating it on first use.
 * Cache entries are keyed by content hash and size, so edits to the file produce a new thumbnail.
 * Writes go to a temporary file then rename, so a crash never leaves a half-written thumbnail.
 */
export function thumbnailFor(cacheDir: string, source: string, hash: string, size = THUMB_SIZE): Promise<string> {
  const target = path.join(cacheDir, hash.slice(0, 2), `${hash}-${size}.webp`);
  if (fs.existsSync(target)) return Promise.resolve(target);
  const pending = inFlight.get(target);
  if (pending) return pending;
  const job = (async () => {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await sharp(source, { failOn: 'error' })
        .rotate()
        .resize(size, size, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 70, effort: 0 })
        .toFile(tmp);
      fs.renameSync(tmp, target);
      return target;
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`${source}: cannot make a thumbnail (${(e as Error).message})`);
    } finally {
      inFlight.delete(target);
    }
  })();
  inFlight.set(target, job);
  return job;
}
