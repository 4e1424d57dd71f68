/**
 * Evaluates a training run's best checkpoint (EMA weights) on a project split with the one evaluator every
 * run is compared by: COCO mAP (pycocotools' numbers) plus Ultralytics-style P/R, per-class AP, PR curves and
 * the confusion matrix, with the model's size and its latency measured on this machine. Predictions are stored
 * per run for the detection review, and the evaluation for the runs leaderboard.
 */
import fs from 'node:fs';
import os from 'node:os';
import ort from 'onnxruntime-node';
import { StarlingError } from '../errors.js';
import { exportDetector } from '../export/detector.js';
import { parseDetectorConfig } from '../models/config.js';
import { modelFigures } from '../models/flops.js';
import { measureLatency, median } from '../runtime/latency.js';
import { buildDetector } from '../models/zoo.js';
import { loadWeights } from '../models/weights.js';
import type { ProjectStore } from '../store/project.js';
import type { ImageRecord } from '../store/types.js';
import { asOutputs, decode, type Layout } from '../inference/decode.js';
import { letterbox, unletterbox } from '../inference/letterbox.js';
import { cocoEvaluate, EVAL_DECODE, type CocoDet, type CocoGt } from '../eval/coco-eval.js';
import { cocoDetectionMetrics, type DetectionMetrics } from '../eval/metrics.js';

export interface RunEvaluation {
  runId: number;
  split: string;
  images: number;
  stats: number[];
  metrics: Omit<DetectionMetrics, 'cells'>;
  perClass: { name: string; ap: number; ap50: number }[];
  /** Model size, as the zoo counts it, at the run's image size. */
  parameters: number;
  gflops: number;
  imgsz: number;
  /** Milliseconds per image on this machine (medians): onnxruntime on the CPU, batch 1, default threads. */
  latency: LatencyFigures;
  /** `store.labelsFingerprint` of the split when evaluated: a later label edit makes this evaluation stale. */
  labelsDigest: string;
  /** When the evaluated checkpoint was written (ms since epoch): a newer checkpoint makes it stale. */
  checkpointTime: number;
  evaluatedAt: number;
}

export interface LatencyFigures {
  /** `session.run` alone, after warm-up: 20 timed runs of one letterboxed image. */
  inferenceMs: number;
  /** Decode + letterbox, and output decoding + NMS, per image of the split. */
  preprocessMs: number;
  postprocessMs: number;
  machine: string;
  /** Jobs that ran during the measurement (training, pseudo-labeling): the figures are then not comparable. */
  concurrentJobs: string[];
}

/** The split's labeled images and their accepted boxes, as COCO ground truth. */
export function splitGroundTruth(store: ProjectStore, split: 'val' | 'test'): { images: ImageRecord[]; gt: CocoGt } {
  const classes = store.classes.list();
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const images = store.images.list({ split }, 0, 1e9).filter((im) => im.status !== 'unlabeled');
  const gt: CocoGt = { images: [], annotations: [], categories: classes.map((_, i) => ({ id: i })) };
  let annId = 1;
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
  }
  return { images, gt };
}

export async function evaluateRun(
  store: ProjectStore,
  runId: number,
  split: 'val' | 'test',
  conf: number = EVAL_DECODE.conf,
  /** Jobs using the CPU meanwhile (their labels): recorded with the latency, which they inflate. */
  concurrentJobs: string[] = [],
): Promise<RunEvaluation> {
  const run = store.runs.get(runId);
  const settings = run.config as { config?: Record<string, unknown>; imgsz?: number };
  const config = parseDetectorConfig(settings.config ?? {});
  const imgsz = settings.imgsz ?? 320;
  // `best` is named when the run starts; the file exists once a validated epoch has been saved.
  if (!run.artifacts.best || !fs.existsSync(run.artifacts.best))
    throw new StarlingError('INVALID_INPUT', `run ${runId} has no checkpoint yet (${run.status}): nothing to evaluate`);
  const checkpointTime = fs.statSync(run.artifacts.best).mtimeMs;
  const model = buildDetector(config);
  loadWeights(model, run.artifacts.best);
  const figures = modelFigures(model, imgsz, (g) => void model.forward(g.input('images', [1, 3, imgsz, imgsz])));
  // The same graph `starling export` writes, so the numbers are the exported model's.
  const { bytes } = exportDetector(model, { imgsz, style: model.centernet ? 'centernet' : 'raw' });
  const layout: Layout = model.centernet ? 'centernet' : 'ultralytics-raw';
  const session = await ort.InferenceSession.create(bytes);
  const classes = store.classes.list();
  const { images, gt } = splitGroundTruth(store, split);
  const { digest } = store.labelsFingerprint(split);
  const dets: CocoDet[] = [];
  const stored: { imageId: number; classId: number; x: number; y: number; w: number; h: number; score: number }[] = [];
  const times = { pre: [] as number[], post: [] as number[] };
  let inferenceMs = 0;
  let input = new ort.Tensor('float32', new Float32Array(3 * imgsz * imgsz).fill(114 / 255), [1, 3, imgsz, imgsz]);
  try {
    for (const im of images) {
      const t0 = performance.now();
      const lb = await letterbox({ file: store.absolutePath(im.path), boxes: [] }, imgsz);
      input = new ort.Tensor('float32', lb.data, [1, 3, imgsz, imgsz]);
      const t1 = performance.now();
      const res = await session.run({ images: input });
      const t2 = performance.now();
      for (const d of decode(layout, asOutputs(res), 0, { ...EVAL_DECODE, conf })) {
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
      times.pre.push(t1 - t0);
      times.post.push(performance.now() - t2);
    }
    // Inference latency on its own: warm-up, then timed runs of one image (the split's last, or grey).
    inferenceMs = (await measureLatency(session, { images: input })).medianMs;
  } finally {
    await session.release();
  }
  const r = cocoEvaluate(gt, dets);
  const { cells: _cells, ...metrics } = cocoDetectionMetrics(gt, dets);
  const cpus = os.cpus();
  const evaluation: RunEvaluation = {
    runId,
    split,
    images: images.length,
    stats: r.stats,
    metrics,
    perClass: r.perClass.map((p, i) => ({ name: classes[i]!.name, ap: p.ap, ap50: p.ap50 })),
    parameters: figures.parameters,
    gflops: figures.gflops,
    imgsz,
    latency: {
      inferenceMs,
      preprocessMs: median(times.pre),
      postprocessMs: median(times.post),
      machine: `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} logical cores), onnxruntime ${ort.env.versions.common} CPU`,
      concurrentJobs,
    },
    labelsDigest: digest,
    checkpointTime,
    evaluatedAt: Date.now(),
  };
  // Predictions (for the detection review) and the leaderboard entry change together.
  store.db
    .transaction(() => {
      store.runs.putPredictions(
        runId,
        images.map((im) => im.id),
        stored,
      );
      store.runs.putEvaluation(runId, split, evaluation);
    })
    .immediate();
  return evaluation;
}
