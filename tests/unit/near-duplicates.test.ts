import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { differenceHash, groupNearDuplicates, hashAll } from '../../src-main/vision/near-duplicates.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A gradient scene with a few shapes: enough structure for a difference hash to tell scenes apart. */
async function scene(file: string, seed: number, o: { scale?: number; quality?: number } = {}): Promise<string> {
  const w = Math.round(320 * (o.scale ?? 1));
  const h = Math.round(240 * (o.scale ?? 1));
  const shapes = [0, 1, 2, 3]
    .map((k) => {
      const x = ((seed * 97 + k * 61) % 280) * (o.scale ?? 1);
      const y = ((seed * 53 + k * 37) % 200) * (o.scale ?? 1);
      return `<circle cx="${x}" cy="${y}" r="${30 * (o.scale ?? 1)}" fill="hsl(${(seed * 40 + k * 90) % 360},70%,50%)"/>`;
    })
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><linearGradient id="g" x2="1"><stop offset="0" stop-color="#222"/><stop offset="1" stop-color="#ddd"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  await sharp(Buffer.from(svg))
    .jpeg({ quality: o.quality ?? 90 })
    .toFile(file);
  return file;
}

describe('near-duplicate images', () => {
  it('groups a resized, re-encoded copy with its original and keeps other scenes apart', async () => {
    const files = [
      await scene(`${tmp.dir}/a.jpg`, 1),
      await scene(`${tmp.dir}/a-small.jpg`, 1, { scale: 0.6, quality: 55 }),
      await scene(`${tmp.dir}/b.jpg`, 2),
      await scene(`${tmp.dir}/c.jpg`, 3),
    ];
    const hashes = await Promise.all(files.map(differenceHash));
    expect(hashes[0]).not.toBe(hashes[2]);
    const hashed = await hashAll(files, (f) => f);
    const groups = groupNearDuplicates(hashed);
    expect(groups.map((g) => g.items.map((f) => f.split('/').pop()))).toEqual([['a.jpg', 'a-small.jpg']]);
    expect(groups[0]!.bits).toBeLessThanOrEqual(3);
  });

  it('skips an unreadable file instead of failing the search', async () => {
    const bad = `${tmp.dir}/bad.jpg`;
    (await import('node:fs')).writeFileSync(bad, 'not a jpeg');
    const hashed = await hashAll([bad, `${tmp.dir}/a.jpg`], (f) => f);
    expect(hashed.map((h) => h.item.split('/').pop())).toEqual(['a.jpg']);
  });
});
