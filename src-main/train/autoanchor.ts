/**
 * YOLOv5's autoanchor (utils/autoanchor.py), before a yolov5 head's first epoch: the best possible recall (BPR)
 * of the anchors on the training boxes (a box is recallable when some anchor is within `thr` = 4x of it in width
 * and height), and, when it is 0.98 or less, new anchors: k-means on the boxes' sizes (whitened, best of 30 runs),
 * then 1000 generations of mutation kept when they raise the fitness (mean best ratio over boxes above 1/thr),
 * sorted by area so the smallest go to P3. They replace the old ones only when their BPR is higher, as YOLOv5 does.
 * Box sizes are taken at the training input size (each image letterboxed to imgsz), with YOLOv5's random 0.9-1.1
 * scale for the BPR check; seeded, so a run is reproducible.
 */
import type { Source } from '../inference/letterbox.js';
import { Rng } from '../util/random.js';

export type Wh = readonly [number, number];

/** Each box's [w, h] at the letterboxed input size (images without a known size are left out). */
export function boxSizes(sources: readonly Source[], imgsz: number, rng?: Rng): Wh[] {
  const out: Wh[] = [];
  for (const s of sources) {
    if (!s.width || !s.height) continue;
    const scale = (imgsz / Math.max(s.width, s.height)) * (rng ? rng.range(0.9, 1.1) : 1);
    for (const b of s.boxes) out.push([b.w * scale, b.h * scale]);
  }
  return out;
}

/** Per box, the best anchor's ratio min(w/aw, aw/w, h/ah, ah/h); and how many anchors are within the threshold. */
function ratios(wh: readonly Wh[], anchors: readonly Wh[], thr: number) {
  const best = new Float64Array(wh.length);
  let above = 0;
  wh.forEach(([w, h], i) => {
    let b = 0;
    for (const [aw, ah] of anchors) {
      const x = Math.min(w / aw, aw / w, h / ah, ah / h);
      if (x > 1 / thr) above++;
      if (x > b) b = x;
    }
    best[i] = b;
  });
  return { best, anchorsPerBox: wh.length ? above / wh.length : 0 };
}

/** The best possible recall and the mean number of anchors within the threshold per box. */
export function anchorFit(wh: readonly Wh[], anchors: readonly Wh[], thr = 4): { bpr: number; anchorsPerBox: number } {
  const { best, anchorsPerBox } = ratios(wh, anchors, thr);
  let n = 0;
  for (const b of best) if (b > 1 / thr) n++;
  return { bpr: wh.length ? n / wh.length : 0, anchorsPerBox };
}

function fitness(wh: readonly Wh[], anchors: readonly Wh[], thr: number): number {
  const { best } = ratios(wh, anchors, thr);
  let s = 0;
  for (const b of best) if (b > 1 / thr) s += b;
  return wh.length ? s / wh.length : 0;
}

const byArea = (k: Wh[]): Wh[] => [...k].sort((a, b) => a[0] * a[1] - b[0] * b[1]);

/** scipy's kmeans: the best (least distortion) of `runs` Lloyd runs from random observations. */
function kmeans(x: readonly Wh[], k: number, rng: Rng, runs = 30): Wh[] {
  let bestK: Wh[] = [];
  let bestD = Infinity;
  for (let r = 0; r < runs; r++) {
    const picked = new Set<number>();
    while (picked.size < k) picked.add(rng.int(0, x.length - 1));
    let c: Wh[] = [...picked].map((i) => [...x[i]!] as Wh);
    let prev = Infinity;
    for (let it = 0; it < 100; it++) {
      const sum = c.map(() => [0, 0, 0]);
      let d = 0;
      for (const p of x) {
        let j = 0;
        let dj = Infinity;
        c.forEach((q, qi) => {
          const e = Math.hypot(p[0] - q[0], p[1] - q[1]);
          if (e < dj) [dj, j] = [e, qi];
        });
        d += dj;
        sum[j]![0]! += p[0];
        sum[j]![1]! += p[1];
        sum[j]![2]! += 1;
      }
      d /= x.length;
      // A cluster that lost its points keeps its centre (scipy drops it; the count must stay k here).
      c = c.map((q, qi) => (sum[qi]![2]! ? [sum[qi]![0]! / sum[qi]![2]!, sum[qi]![1]! / sum[qi]![2]!] : q));
      if (prev - d <= 1e-5) {
        prev = d;
        break;
      }
      prev = d;
    }
    if (prev < bestD) [bestD, bestK] = [prev, c];
  }
  return bestK;
}

/** YOLOv5's kmean_anchors: `n` anchors fitted to the box sizes, sorted by area. */
export function evolveAnchors(
  sizes: readonly Wh[],
  n: number,
  o: { imgsz: number; thr?: number; generations?: number; seed?: number },
): Wh[] {
  const thr = o.thr ?? 4;
  const rng = new Rng('autoanchor', o.seed ?? 0);
  const wh = sizes.filter(([w, h]) => w >= 2 || h >= 2);
  let k: Wh[];
  if (wh.length >= n) {
    const spread = (d: 0 | 1) => {
      const m = wh.reduce((a, p) => a + p[d], 0) / wh.length;
      return Math.sqrt(wh.reduce((a, p) => a + (p[d] - m) ** 2, 0) / wh.length) || 1;
    };
    const sd: Wh = [spread(0), spread(1)];
    k = kmeans(
      wh.map(([w, h]) => [w / sd[0], h / sd[1]] as Wh),
      n,
      rng,
    ).map(([w, h]) => [w * sd[0], h * sd[1]] as Wh);
  } else {
    const r = Array.from({ length: 2 * n }, () => rng.float() * o.imgsz).sort((a, b) => a - b);
    k = Array.from({ length: n }, (_, i) => [r[2 * i]!, r[2 * i + 1]!] as Wh);
  }
  k = byArea(k);
  let f = fitness(wh, k, thr);
  for (let g = 0; g < (o.generations ?? 1000); g++) {
    let v: number[] = [];
    // A mutation that changes nothing is drawn again, as YOLOv5 does.
    while (!v.length || v.every((x) => x === 1)) {
      const amount = rng.float();
      v = Array.from({ length: 2 * n }, () =>
        Math.min(3, Math.max(0.3, (rng.float() < 0.9 ? 1 : 0) * amount * rng.normal() * 0.1 + 1)),
      );
    }
    const kg = k.map(([w, h], i) => [Math.max(2, w * v[2 * i]!), Math.max(2, h * v[2 * i + 1]!)] as Wh);
    const fg = fitness(wh, kg, thr);
    if (fg > f) [f, k] = [fg, kg];
  }
  return byArea(k);
}

export interface AutoAnchorResult {
  before: { bpr: number; anchorsPerBox: number };
  /** The new anchors' fit, when they were computed. */
  after?: { bpr: number; anchorsPerBox: number };
  /** The anchors to use, per level, in pixels (the old ones when they fit or the new ones are not better). */
  anchors: Wh[][];
  replaced: boolean;
  /** Boxes measured (those of images whose size is known). */
  boxes: number;
}

/** YOLOv5's check_anchors on `sources` at `imgsz` for anchors per level (pixels). */
export function checkAnchors(
  sources: readonly Source[],
  anchors: readonly (readonly Wh[])[],
  o: { imgsz: number; thr?: number; seed?: number; generations?: number },
): AutoAnchorResult {
  const thr = o.thr ?? 4;
  const flat = anchors.flat() as Wh[];
  const checked = boxSizes(sources, o.imgsz, new Rng('autoanchor-scale', o.seed ?? 0));
  const before = anchorFit(checked, flat, thr);
  const keep = {
    before,
    anchors: anchors.map((l) => l.map((a) => [...a] as Wh)),
    replaced: false,
    boxes: checked.length,
  };
  if (before.bpr > 0.98 || !checked.length) return keep;
  const fresh = evolveAnchors(boxSizes(sources, o.imgsz), flat.length, { ...o, thr });
  const after = anchorFit(checked, fresh, thr);
  if (!(after.bpr > before.bpr)) return { ...keep, after };
  const per = anchors[0]!.length;
  return { ...keep, after, anchors: anchors.map((_, i) => fresh.slice(i * per, (i + 1) * per)), replaced: true };
}
