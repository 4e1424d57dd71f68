/**
 * COCO bbox evaluation with pycocotools' COCOeval semantics, number for number: IoU thresholds 0.50:0.05:0.95
 * and recall thresholds 0:0.01:1 built as numpy's linspace builds them, crowd regions (IoU over the detection's
 * area), area ranges (gt `area` field; detections use w*h as loadRes does), maxDets 1/10/100, stable score
 * sorts, the greedy matching with ignore handling, the precision envelope and recall sampling with
 * searchsorted(side='left'). The 12 summary numbers equal COCOeval.stats (tests/fixtures/coco).
 */
import { boxIou } from '../inference/boxes.js';

/**
 * How predictions are decoded for evaluation, in training's per-epoch validation and in a run's evaluation
 * alike (Ultralytics' val settings): a low confidence floor so the PR curve reaches high recall, NMS at IoU 0.7,
 * at most 300 boxes per image.
 */
export const EVAL_DECODE = { conf: 0.001, iou: 0.7, maxDet: 300 } as const;

export interface CocoGt {
  images: { id: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[]; area?: number; iscrowd?: number }[];
  categories: { id: number; name?: string }[];
}

export interface CocoDet {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
}

export interface CocoEvalResult {
  /** COCOeval.stats: AP, AP50, AP75, AP small/medium/large, AR1, AR10, AR100, AR small/medium/large. */
  stats: number[];
  /** Per category id: AP50-95 and AP50 (maxDets 100, all areas); -1 when the category has no ground truth. */
  perClass: { categoryId: number; ap: number; ap50: number }[];
  /** precision[t][r][k][a][m] flattened: T x R x K x A x M. */
  precision: Float64Array;
  recall: Float64Array;
  counts: [number, number, number, number, number];
}

/** numpy.linspace(start, stop, num) exactly. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

export const IOU_THRS = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
export const REC_THRS = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);
const AREA_RNG: [number, number][] = [
  [0, 1e10],
  [0, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e10],
];
const MAX_DETS = [1, 10, 100];
const EPS = 2.220446049250313e-16; // np.spacing(1)

interface G {
  id: number;
  bbox: number[];
  area: number;
  crowd: boolean;
}
interface D {
  id: number;
  bbox: number[];
  area: number;
  score: number;
}

interface EvalImg {
  dtScores: number[];
  /** [T][D] matched gt id (0 = none). */
  dtm: Float64Array[];
  dtIg: Uint8Array[];
  gtIg: Uint8Array;
}

export function cocoEvaluate(gt: CocoGt, dets: readonly CocoDet[]): CocoEvalResult {
  const imgIds = [...new Set(gt.images.map((i) => i.id))].sort((a, b) => a - b);
  const catIds = [...new Set(gt.categories.map((c) => c.id))].sort((a, b) => a - b);
  const imgSet = new Set(imgIds);
  const key = (i: number, c: number) => i * 1e6 + c; // numeric keys: faster than strings for 5k x 80
  const gts = new Map<number, G[]>();
  for (const a of gt.annotations) {
    const list = gts.get(key(a.image_id, a.category_id)) ?? [];
    list.push({ id: a.id, bbox: a.bbox, area: a.area ?? a.bbox[2]! * a.bbox[3]!, crowd: !!a.iscrowd });
    gts.set(key(a.image_id, a.category_id), list);
  }
  const dts = new Map<number, D[]>();
  dets.forEach((d, n) => {
    if (!imgSet.has(d.image_id))
      throw new Error(`detection ${n + 1}: image_id ${d.image_id} is not in the ground truth`);
    const list = dts.get(key(d.image_id, d.category_id)) ?? [];
    list.push({ id: n + 1, bbox: d.bbox, area: d.bbox[2]! * d.bbox[3]!, score: d.score });
    dts.set(key(d.image_id, d.category_id), list);
  });

  const T = IOU_THRS.length;
  const R = REC_THRS.length;
  const K = catIds.length;
  const A = AREA_RNG.length;
  const M = MAX_DETS.length;
  const maxDet = MAX_DETS[M - 1]!;

  // evaluateImg for every (category, area, image), as COCOeval.evaluate orders them.
  const evalImgs: (EvalImg | null)[][][] = catIds.map(() => AREA_RNG.map(() => []));
  catIds.forEach((cat, k) => {
    for (const img of imgIds) {
      const g0 = gts.get(key(img, cat)) ?? [];
      const d0 = dts.get(key(img, cat)) ?? [];
      if (!g0.length && !d0.length) {
        for (let a = 0; a < A; a++) evalImgs[k]![a]!.push(null);
        continue;
      }
      const dSorted = d0
        .map((d, i) => ({ d, i }))
        .sort((p, q) => q.d.score - p.d.score || p.i - q.i)
        .map((x) => x.d)
        .slice(0, maxDet);
      const ious = dSorted.map((d) => g0.map((g) => boxIou(d.bbox, g.bbox, g.crowd)));
      AREA_RNG.forEach(([lo, hi], a) => {
        const ignore = g0.map((g) => (g.crowd || g.area < lo || g.area > hi ? 1 : 0));
        // gt sorted: not-ignored first (stable).
        const gOrder = g0.map((_, i) => i).sort((p, q) => ignore[p]! - ignore[q]! || p - q);
        const g = gOrder.map((i) => g0[i]!);
        const gtIg = Uint8Array.from(gOrder.map((i) => ignore[i]!));
        const D = dSorted.length;
        const G = g.length;
        const dtm = IOU_THRS.map(() => new Float64Array(D));
        const dtIg = IOU_THRS.map(() => new Uint8Array(D));
        const gtm = IOU_THRS.map(() => new Float64Array(G));
        if (D && G) {
          IOU_THRS.forEach((t, ti) => {
            for (let di = 0; di < D; di++) {
              let iou = Math.min(t, 1 - 1e-10);
              let m = -1;
              for (let gi = 0; gi < G; gi++) {
                if (gtm[ti]![gi]! > 0 && !g[gi]!.crowd) continue;
                if (m > -1 && gtIg[m] === 0 && gtIg[gi] === 1) break;
                const v = ious[di]![gOrder[gi]!]!;
                if (v < iou) continue;
                iou = v;
                m = gi;
              }
              if (m === -1) continue;
              dtIg[ti]![di] = gtIg[m]!;
              dtm[ti]![di] = g[m]!.id;
              gtm[ti]![m] = dSorted[di]!.id;
            }
          });
        }
        // Unmatched detections outside the area range are ignored.
        dSorted.forEach((d, di) => {
          if (d.area < lo || d.area > hi) for (let ti = 0; ti < T; ti++) if (dtm[ti]![di] === 0) dtIg[ti]![di] = 1;
        });
        evalImgs[k]![a]!.push({ dtScores: dSorted.map((d) => d.score), dtm, dtIg, gtIg });
      });
    }
  });

  // accumulate
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const pIdx = (t: number, r: number, k: number, a: number, m: number) => (((t * R + r) * K + k) * A + a) * M + m;
  const rIdx = (t: number, k: number, a: number, m: number) => ((t * K + k) * A + a) * M + m;
  for (let k = 0; k < K; k++)
    for (let a = 0; a < A; a++)
      MAX_DETS.forEach((md, m) => {
        const E = evalImgs[k]![a]!.filter((e): e is EvalImg => e !== null);
        if (!E.length) return;
        const scores: number[] = [];
        const src: [EvalImg, number][] = [];
        for (const e of E) {
          const n = Math.min(md, e.dtScores.length);
          for (let i = 0; i < n; i++) {
            scores.push(e.dtScores[i]!);
            src.push([e, i]);
          }
        }
        const order = scores.map((_, i) => i).sort((p, q) => scores[q]! - scores[p]! || p - q);
        let npig = 0;
        for (const e of E) for (const v of e.gtIg) npig += v === 0 ? 1 : 0;
        if (npig === 0) return;
        const nd = order.length;
        for (let t = 0; t < T; t++) {
          const rc = new Float64Array(nd);
          const pr = new Float64Array(nd);
          let tp = 0;
          let fp = 0;
          for (let j = 0; j < nd; j++) {
            const [e, i] = src[order[j]!]!;
            const matched = e.dtm[t]![i]! !== 0;
            const ig = e.dtIg[t]![i]! !== 0;
            if (matched && !ig) tp++;
            else if (!matched && !ig) fp++;
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + EPS);
          }
          recall[rIdx(t, k, a, m)] = nd ? rc[nd - 1]! : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
          // searchsorted(rc, recThrs, 'left'); stop at the first threshold beyond the last recall (numpy IndexError).
          let j = 0;
          for (let r = 0; r < R; r++) {
            while (j < nd && rc[j]! < REC_THRS[r]!) j++;
            if (j >= nd) {
              for (let rr = r; rr < R; rr++) precision[pIdx(t, rr, k, a, m)] = 0;
              break;
            }
            precision[pIdx(t, r, k, a, m)] = pr[j]!;
          }
        }
      });

  const summarize = (ap: boolean, iouThr: number | null, area: number, md: number): number => {
    const m = MAX_DETS.indexOf(md);
    let sum = 0;
    let n = 0;
    for (let t = 0; t < T; t++) {
      if (iouThr !== null && IOU_THRS[t] !== iouThr) continue;
      for (let k = 0; k < K; k++) {
        if (ap) {
          for (let r = 0; r < R; r++) {
            const v = precision[pIdx(t, r, k, area, m)]!;
            if (v > -1) {
              sum += v;
              n++;
            }
          }
        } else {
          const v = recall[rIdx(t, k, area, m)]!;
          if (v > -1) {
            sum += v;
            n++;
          }
        }
      }
    }
    return n ? sum / n : -1;
  };
  const stats = [
    summarize(true, null, 0, 100),
    summarize(true, 0.5, 0, 100),
    summarize(true, 0.75, 0, 100),
    summarize(true, null, 1, 100),
    summarize(true, null, 2, 100),
    summarize(true, null, 3, 100),
    summarize(false, null, 0, 1),
    summarize(false, null, 0, 10),
    summarize(false, null, 0, 100),
    summarize(false, null, 1, 100),
    summarize(false, null, 2, 100),
    summarize(false, null, 3, 100),
  ];
  const perClass = catIds.map((categoryId, k) => {
    const mean = (t0: number, t1: number) => {
      let s = 0;
      let n = 0;
      for (let t = t0; t < t1; t++)
        for (let r = 0; r < R; r++) {
          const v = precision[pIdx(t, r, k, 0, M - 1)]!;
          if (v > -1) {
            s += v;
            n++;
          }
        }
      return n ? s / n : -1;
    };
    return { categoryId, ap: mean(0, T), ap50: mean(0, 1) };
  });
  return { stats, perClass, precision, recall, counts: [T, R, K, A, M] };
}

const LINES = [
  ['Average Precision', '(AP)', '0.50:0.95', 'all', 100],
  ['Average Precision', '(AP)', '0.50', 'all', 100],
  ['Average Precision', '(AP)', '0.75', 'all', 100],
  ['Average Precision', '(AP)', '0.50:0.95', 'small', 100],
  ['Average Precision', '(AP)', '0.50:0.95', 'medium', 100],
  ['Average Precision', '(AP)', '0.50:0.95', 'large', 100],
  ['Average Recall', '(AR)', '0.50:0.95', 'all', 1],
  ['Average Recall', '(AR)', '0.50:0.95', 'all', 10],
  ['Average Recall', '(AR)', '0.50:0.95', 'all', 100],
  ['Average Recall', '(AR)', '0.50:0.95', 'small', 100],
  ['Average Recall', '(AR)', '0.50:0.95', 'medium', 100],
  ['Average Recall', '(AR)', '0.50:0.95', 'large', 100],
] as const;

/** The 12 numbers in pycocotools' summary layout. */
export function formatCocoStats(stats: readonly number[]): string {
  return (
    LINES.map(
      ([title, kind, iou, area, md], i) =>
        ` ${title.padEnd(18)} ${kind} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(md).padStart(3)} ] = ${stats[i]!.toFixed(3)}`,
    ).join('\n') + '\n'
  );
}
