/**
 * Near-duplicate images: the same scene re-encoded, resized or slightly edited, which an exact content hash
 * misses. Each image gets a 64-bit difference hash (dHash: a 9x8 grey thumbnail, one bit per horizontal
 * neighbour pair brighter or not); two images are near-duplicates when their hashes differ in at most a few bits.
 * Candidate pairs come from buckets on the hash's four 16-bit quarters: two hashes within 3 bits share at least
 * one quarter exactly (pigeonhole), so no pair is compared that could not match.
 */
import sharp from 'sharp';
import { mapLimit } from '../util/map-limit.js';

/** Hashes differing in at most this many of 64 bits are near-duplicates (pigeonhole bucketing needs < 4). */
export const NEAR_DUPLICATE_BITS = 3;

export async function differenceHash(file: string): Promise<bigint> {
  const px = await sharp(file, { failOn: 'error' })
    .rotate()
    .greyscale()
    .resize(9, 8, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  let h = 0n;
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) h = (h << 1n) | (px[y * 9 + x]! > px[y * 9 + x + 1]! ? 1n : 0n);
  return h;
}

function popcount(v: bigint): number {
  let n = 0;
  while (v) {
    v &= v - 1n;
    n++;
  }
  return n;
}

export interface NearDuplicateGroup<T> {
  items: T[];
  /** The largest distance, in bits, between an item and the group's first. */
  bits: number;
}

/** Groups items whose hashes are within `maxBits` (union-find over the candidate pairs). */
export function groupNearDuplicates<T>(
  items: readonly { item: T; hash: bigint }[],
  maxBits = NEAR_DUPLICATE_BITS,
): NearDuplicateGroup<T>[] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const buckets = new Map<string, number[]>();
  items.forEach(({ hash }, i) => {
    for (let q = 0; q < 4; q++) {
      const key = `${q}:${(hash >> BigInt(16 * q)) & 0xffffn}`;
      const list = buckets.get(key) ?? [];
      list.push(i);
      buckets.set(key, list);
    }
  });
  for (const list of buckets.values())
    for (let a = 0; a < list.length; a++)
      for (let b = a + 1; b < list.length; b++) {
        const [i, j] = [list[a]!, list[b]!];
        if (find(i) !== find(j) && popcount(items[i]!.hash ^ items[j]!.hash) <= maxBits) parent[find(i)] = find(j);
      }
  const groups = new Map<number, number[]>();
  items.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => ({
      items: g.map((i) => items[i]!.item),
      bits: Math.max(...g.map((i) => popcount(items[i]!.hash ^ items[g[0]!]!.hash))),
    }));
}

/** Hashes every file (bad files are skipped), `concurrency` at a time, reporting progress. */
export async function hashAll<T>(
  items: readonly T[],
  fileOf: (t: T) => string,
  o: { concurrency?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<{ item: T; hash: bigint }[]> {
  let done = 0;
  const hashed = await mapLimit(
    [...items],
    o.concurrency ?? 4,
    async (item) => {
      let hash: bigint | null = null;
      try {
        hash = await differenceHash(fileOf(item));
      } catch {
        hash = null; // unreadable: the gallery already says so
      }
      o.onProgress?.(++done, items.length);
      return hash === null ? null : { item, hash };
    },
    o.signal,
  );
  return hashed.filter((x): x is { item: T; hash: bigint } => x != null); // holes: cancelled before their turn
}
