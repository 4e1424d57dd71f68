/**
 * Evaluates a training run's best checkpoint (EMA weights) on a project split with the one evaluator every
 * run is compared by: COCO mAP (pycocotools' numbers) plus Ultralytics-style P/R, per-class AP, PR curves and
 * the confusion matrix. Predictions are stored per run for the detection review.
 */
import ort from 'onnxruntime-node';
import { exportDetector } from '../export/detector.js';
import { parseDetectorConfig } from '../models/config.js';
import { buildDetector } from '../models/zoo.js';
import { loadWeights } from '../models/weights.js';
import type { ProjectStore } from '../store/project.js';
import { asOutputs, decode, type Layout } from '../teachers/decode.js';
import { letterbox, unletterbox } from './augment.js';
import { cocoEvaluate, type CocoDet, type CocoGt } from './coco-eval.js';
import { cocoDetectionMetrics, type DetectionMetrics } from './metrics.js';

export interface RunEvaluation {
  runId: number;
  split: string;
  images: number;
  stats: number[];
  metrics: Omit<DetectionMetrics, 'cells'>;
  perClass: { name: string; ap: number; ap50: number }[];
}

export async function evaluateRun(
  store: ProjectStore,
  runId: number,
  split: 'val' | 'test',
  conf = 0.001,
): Promise<RunEvaluation> {
  const run = store.runs.get(runId);
  const settings = run.config as { config?: Record<string, unknown>; imgsz?: number };
  const config = parseDetectorConfig(settings.config ?? {});
  const imgsz = settings.imgsz ?? 320;
  if (!run.artifacts.best) throw new Error(`run ${runId} has no checkpoint yet`);
  const model = buildDetector(config);
  loadWeights(model, run.artifacts.best);
  // The same graph `starling export` writes, so the numbers are the exported model's.
  const { bytes } = exportDetector(model, { imgsz, style: model.centernet ? 'centernet' : 'raw' });
  const layout: Layout = model.centernet ? 'centernet' : 'ultralytics-raw';
  const session = await ort.InferenceSession.create(bytes);
  const classes = store.classes.list();
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const images = store.images.list({ split }, 0, 1e9).filter((im) => im.status !== 'unlabeled');
  const gt: CocoGt = { images: [], annotations: [], categories: classes.map((_, i) => ({ id: i })) };
  const dets: CocoDet[] = [];
  const stored: { imageId: number; classId: number; x: number; y: number; w: number; h: number; score: number }[] = [];
  let annId = 1;
  try {
    for (const im of images) {
      gt.images.push({ id: im.id });
      for (const a of store.annotations.forImage(im.id)) {
        if (a.review !== 'accepted') continue;
        gt.annotations.push({
          id: annId++,
          image_id: im.id,
          category_id: index.get(a.classId)!,
          bbox: [a.x, a.y, a.w, a.h],
          area: a.w * a.h,
          iscrowd: 0,
        });
      }
      const lb = await letterbox({ file: store.absolutePath(im.path), boxes: [] }, imgsz);
      const res = await session.run({ images: new ort.Tensor('float32', lb.data, [1, 3, imgsz, imgsz]) });
      for (const d of decode(layout, asOutputs(res), 0, { conf, iou: 0.7, maxDet: 300 })) {
        const box = unletterbox(d.box, lb);
        dets.push({ image_id: im.id, category_id: d.classId, score: d.score, bbox: box });
        stored.push({
          imageId: im.id,
          classId: classes[d.classId]!.id,
          x: box[0],
          y: box[1],
          w: box[2],
          h: box[3],
          score: d.score,
        });
      }
    }
  } finally {
    await session.release();
  }
  store.runs.putPredictions(
    runId,
    images.map((im) => im.id),
    stored,
  );
  const r = cocoEvaluate(gt, dets);
  const { cells: _cells, ...metrics } = cocoDetectionMetrics(gt, dets);
  return {
    runId,
    split,
    images: images.length,
    stats: r.stats,
    metrics,
    perClass: r.perClass.map((p, i) => ({ name: classes[i]!.name, ap: p.ap, ap50: p.ap50 })),
  };
}
