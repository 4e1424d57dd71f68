/**
 * The detection review of a run: its stored predictions (from `runs.evaluate`) against the accepted labels of a
 * split, per image (true positives, false positives, false negatives, low-IoU matches at a confidence), plus the
 * PR curves and the confusion matrix whose cells list their images. Nothing is re-run: review is instant.
 */
import { greedyMatch } from '../inference/boxes.js';
import type { ProjectStore } from '../store/project.js';
import { classIndices, cocoGroundTruth, splitTruth } from './ground-truth.js';
import { cocoDetectionMetrics, type DetectionMetrics } from './metrics.js';

export interface ImageReview {
  imageId: number;
  path: string;
  tp: number;
  fp: number;
  fn: number;
  /** Matches at IoU 0.5 whose IoU is below 0.75: found, but badly placed. */
  lowIou: number;
  classes: number[];
}

export interface DetectionReview {
  runId: number;
  split: string;
  conf: number;
  /** Whether the run has an evaluation on this split (which stores its predictions). */
  evaluated: boolean;
  /** Predictions stored for the split's images (at every confidence), and those at or above `conf`. */
  predictions: number;
  confident: number;
  images: ImageReview[];
  /** Project class ids in matrix order (index nc = background). */
  classIds: number[];
  prCurves: DetectionMetrics['prCurves'];
  confusion: number[][];
  /** Project image ids per confusion cell. */
  cells: number[][][];
}

export function reviewDetections(
  store: ProjectStore,
  runId: number,
  split: 'val' | 'test',
  conf = 0.25,
): DetectionReview {
  store.runs.get(runId);
  const { images, classes } = splitTruth(store, split);
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const dets: { image_id: number; category_id: number; bbox: number[]; score: number }[] = [];
  const out: ImageReview[] = [];
  let confidentCount = 0;
  for (const im of images) {
    const gts = im.truths;
    const preds = store.runs
      .predictions(runId, im.id)
      .map((p) => ({ classId: p.classId, box: [p.x, p.y, p.w, p.h], score: p.score }));
    for (const p of preds)
      dets.push({ image_id: im.id, category_id: index.get(p.classId)!, bbox: p.box, score: p.score });
    const confident = preds.filter((x) => x.score >= conf);
    confidentCount += confident.length;
    const { matches, unmatchedTruths } = greedyMatch(confident, gts);
    out.push({
      imageId: im.id,
      path: im.path,
      tp: matches.length,
      fp: confident.length - matches.length,
      fn: unmatchedTruths,
      // Found at IoU 0.5 but badly placed.
      lowIou: matches.filter((m) => m.iou < 0.75).length,
      classes: [...new Set([...gts, ...preds].map((x) => x.classId))],
    });
  }
  const m = cocoDetectionMetrics(cocoGroundTruth(images, classIndices(classes.length)), dets);
  return {
    runId,
    split,
    conf,
    evaluated: store.runs.evaluations(split).has(runId),
    predictions: dets.length,
    confident: confidentCount,
    images: out,
    classIds: classes.map((c) => c.id),
    prCurves: m.prCurves.map((c) => ({ ...c, classId: classes[c.classId]!.id })),
    confusion: m.confusion,
    cells: m.cells,
  };
}
