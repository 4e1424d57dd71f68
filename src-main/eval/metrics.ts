import { boxIou } from '../inference/boxes.js';

/**
 * Detection metrics in the way Ultralytics reports them, next to the COCO numbers: per-class precision/recall at the
 * confidence that maximizes mean F1 (no curve smoothing), precision-recall curves (IoU 0.5), and a confusion matrix with a
 * background row/column (detections above `conf` matched to ground truth at IoU > `iou`, one-to-one by
 * highest IoU). The matched image ids are kept per cell so a UI can open them.
 */

export interface MetricBox {
  imageId: number;
  classId: number;
  /** x, y, w, h in pixels. */
  bbox: [number, number, number, number];
}
export interface MetricDet extends MetricBox {
  score: number;
}

export interface DetectionMetrics {
  /** At the best-F1 confidence, averaged over classes with ground truth. */
  precision: number;
  recall: number;
  f1: number;
  bestConf: number;
  perClass: { classId: number; precision: number; recall: number; ap50: number; gt: number }[];
  /** Per class: precision at recall 0, 0.01, ..., 1 (IoU 0.5; the envelope interpolated as numpy does). */
  prCurves: { classId: number; precision: number[] }[];
  /** confusion[pred][true], index nc = background; `cells` lists image ids per [pred][true]. */
  confusion: number[][];
  cells: number[][][];
}

/** numpy.interp(x, xp, fp) for non-decreasing xp, duplicates included (the right-most of equal xs wins). */
export function npInterp(x: number, xp: readonly number[], fp: readonly number[]): number {
  const n = xp.length;
  if (x < xp[0]!) return fp[0]!;
  if (x >= xp[n - 1]!) return fp[n - 1]!;
  let j = 0;
  while (j < n - 1 && xp[j + 1]! <= x) j++;
  const dx = xp[j + 1]! - xp[j]!;
  return dx > 0 ? fp[j]! + ((x - xp[j]!) * (fp[j + 1]! - fp[j]!)) / dx : fp[j]!;
}

const byImage = <T extends MetricBox>(xs: readonly T[]) => {
  const m = new Map<number, T[]>();
  for (const x of xs) m.set(x.imageId, [...(m.get(x.imageId) ?? []), x]);
  return m;
};

/** Greedy one-to-one matching by IoU (highest first), same class only when `sameClass`. */
function match(gts: MetricBox[], dets: MetricDet[], thr: number, sameClass: boolean): [number, number][] {
  const pairs: [number, number, number][] = [];
  gts.forEach((g, gi) =>
    dets.forEach((d, di) => {
      if (sameClass && g.classId !== d.classId) return;
      const v = boxIou(d.bbox, g.bbox);
      if (v > thr) pairs.push([v, gi, di]);
    }),
  );
  pairs.sort((p, q) => q[0] - p[0] || p[1] - q[1] || p[2] - q[2]);
  const usedG = new Set<number>();
  const usedD = new Set<number>();
  const out: [number, number][] = [];
  for (const [, gi, di] of pairs) {
    if (usedG.has(gi) || usedD.has(di)) continue;
    usedG.add(gi);
    usedD.add(di);
    out.push([gi, di]);
  }
  return out;
}

export function detectionMetrics(
  gt: readonly MetricBox[],
  dets: readonly MetricDet[],
  nc: number,
  o: { conf?: number; iou?: number } = {},
): DetectionMetrics {
  const gtBy = byImage(gt);
  const dtBy = byImage(dets);
  const images = [...new Set([...gtBy.keys(), ...dtBy.keys()])].sort((a, b) => a - b);

  // True positives at IoU 0.5 per detection (same class, one-to-one by IoU).
  const tp = new Map<MetricDet, boolean>();
  for (const img of images) {
    const g = gtBy.get(img) ?? [];
    const d = dtBy.get(img) ?? [];
    for (const [, di] of match(g, d, 0.5 - 1e-12, true)) tp.set(d[di]!, true);
  }
  const nGt = new Array<number>(nc).fill(0);
  for (const g of gt) nGt[g.classId]!++;

  // Confidence axis for P/R/F1 curves (Ultralytics: 1000 points).
  const xs = Array.from({ length: 1000 }, (_, i) => i / 999);
  const perClassCurves = Array.from({ length: nc }, (_, c) => {
    const ds = dets.filter((d) => d.classId === c).sort((a, b) => b.score - a.score);
    let tpc = 0;
    let fpc = 0;
    const conf: number[] = [];
    const rec: number[] = [];
    const prec: number[] = [];
    for (const d of ds) {
      if (tp.get(d)) tpc++;
      else fpc++;
      conf.push(d.score);
      rec.push(tpc / (nGt[c]! + 1e-16));
      prec.push(tpc / (tpc + fpc));
    }
    // Values at each confidence x: the last detection with score >= x (recall and precision drop to 0 / 1 past all).
    const at = (arr: number[], fallback: number) =>
      xs.map((x) => {
        let lo = 0;
        let hi = conf.length; // first index with conf < x
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (conf[mid]! >= x) lo = mid + 1;
          else hi = mid;
        }
        return lo === 0 ? fallback : arr[lo - 1]!;
      });
    // AP50 as Ultralytics' compute_ap: precision envelope, np.interp at 101 recall points, trapezoid integral.
    const mrec = [0, ...rec, 1];
    const mpre = [1, ...prec, 0];
    for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i]!, mpre[i + 1]!);
    const curve = Array.from({ length: 101 }, (_, k) => npInterp(k / 100, mrec, mpre));
    let ap50 = 0;
    for (let k = 0; k < 100; k++) ap50 += ((curve[k]! + curve[k + 1]!) / 2) * 0.01;
    if (!nGt[c]) ap50 = 0;
    return { p: at(prec, 1), r: at(rec, 0), ap50, curve };
  });

  const withGt = perClassCurves.map((_, c) => c).filter((c) => nGt[c]! > 0);
  const meanAt = (sel: (c: number) => number[]) =>
    xs.map((_, i) => (withGt.length ? withGt.reduce((s, c) => s + sel(c)[i]!, 0) / withGt.length : 0));
  const f1 = xs.map((_, i) => {
    const ps = withGt.map((c) => perClassCurves[c]!.p[i]!);
    const rs = withGt.map((c) => perClassCurves[c]!.r[i]!);
    const f = ps.map((p, k) => (2 * p * rs[k]!) / (p + rs[k]! + 1e-16));
    return f.length ? f.reduce((a, b) => a + b, 0) / f.length : 0;
  });
  let best = 0;
  f1.forEach((v, i) => {
    if (v > f1[best]!) best = i;
  });
  const mp = meanAt((c) => perClassCurves[c]!.p);
  const mr = meanAt((c) => perClassCurves[c]!.r);

  // Confusion matrix at conf / iou (Ultralytics' defaults 0.25 / 0.45).
  const conf = o.conf ?? 0.25;
  const thr = o.iou ?? 0.45;
  const confusion = Array.from({ length: nc + 1 }, () => new Array<number>(nc + 1).fill(0));
  const cells = Array.from({ length: nc + 1 }, () => Array.from({ length: nc + 1 }, () => [] as number[]));
  const add = (p: number, t: number, img: number) => {
    confusion[p]![t]!++;
    if (cells[p]![t]!.at(-1) !== img) cells[p]![t]!.push(img);
  };
  for (const img of images) {
    const g = gtBy.get(img) ?? [];
    const d = (dtBy.get(img) ?? []).filter((x) => x.score > conf);
    const m = match(g, d, thr, false);
    const gm = new Set(m.map(([gi]) => gi));
    const dm = new Set(m.map(([, di]) => di));
    for (const [gi, di] of m) add(d[di]!.classId, g[gi]!.classId, img);
    g.forEach((x, gi) => gm.has(gi) || add(nc, x.classId, img)); // missed: predicted background
    d.forEach((x, di) => dm.has(di) || add(x.classId, nc, img)); // false positive: true background
  }

  return {
    precision: mp[best]!,
    recall: mr[best]!,
    f1: f1[best]!,
    bestConf: xs[best]!,
    perClass: perClassCurves.map((c, k) => ({
      classId: k,
      precision: c.p[best]!,
      recall: c.r[best]!,
      ap50: c.ap50,
      gt: nGt[k]!,
    })),
    prCurves: perClassCurves.map((c, k) => ({ classId: k, precision: c.curve })),
    confusion,
    cells,
  };
}

/** The same metrics from COCO files: category ids map to class indices in ascending id order; crowds are skipped. */
export function cocoDetectionMetrics(
  gt: {
    annotations: { image_id: number; category_id: number; bbox: number[]; iscrowd?: number }[];
    categories: { id: number }[];
  },
  dets: readonly { image_id: number; category_id: number; bbox: number[]; score: number }[],
): DetectionMetrics {
  const ids = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const index = new Map(ids.map((id, i) => [id, i]));
  const bb = (b: number[]) => [b[0]!, b[1]!, b[2]!, b[3]!] as [number, number, number, number];
  const g = gt.annotations
    .filter((a) => !a.iscrowd && index.has(a.category_id))
    .map((a) => ({ imageId: a.image_id, classId: index.get(a.category_id)!, bbox: bb(a.bbox) }));
  const d = dets
    .filter((x) => index.has(x.category_id))
    .map((x) => ({ imageId: x.image_id, classId: index.get(x.category_id)!, bbox: bb(x.bbox), score: x.score }));
  return detectionMetrics(g, d, ids.length);
}
