/** Predictions against truth with the COCO evaluator: the named summary and per-class AP. */
import { cocoEvaluate, type CocoDet, type CocoEvalResult, type CocoGt } from './coco-eval.js';
import type { ImagePrediction } from './predict.js';
import { cocoSummary, type CocoSummary } from './summary.js';

/** Detections as COCO results: image ids as the images', category ids the model's class indices. */
export function cocoDetections(predictions: readonly ImagePrediction[]): CocoDet[] {
  return predictions.flatMap((p) =>
    p.detections.map((d) => ({ image_id: p.image.id, category_id: d.classId, score: d.score, bbox: d.box })),
  );
}

export function cocoScore(gt: CocoGt, dets: readonly CocoDet[]): { summary: CocoSummary } & CocoEvalResult {
  const r = cocoEvaluate(gt, dets);
  return { ...r, summary: cocoSummary(r.stats) };
}
