/**
 * Evaluates a training run's best checkpoint (EMA weights) on a project split with the one evaluator every run
 * is compared by: the exported graph (what `starling export` writes) predicting the split's truth images
 * (eval/ground-truth.ts), COCO mAP (pycocotools' numbers) plus Ultralytics-style P/R, per-class AP, PR curves and
 * the confusion matrix, with the model's size and its latency measured on this machine. Predictions are stored
 * per run for the detection review, and the evaluation for the runs leaderboard.
 */
import fs from 'node:fs';
import os from 'node:os';
import ort from 'onnxruntime-node';
import { StarlingError } from '../errors.js';
import { exportDetector } from '../export/detector.js';
import { modelFigures } from '../models/flops.js';
import { loadWeights } from '../models/weights.js';
import { buildDetector } from '../models/zoo.js';
import { measureLatency, median } from '../runtime/latency.js';
import type { ProjectStore } from '../store/project.js';
import { EVAL_DECODE } from './coco-eval.js';
import { classIndices, cocoGroundTruth, splitTruth } from './ground-truth.js';
import { cocoDetectionMetrics, type DetectionMetrics } from './metrics.js';
import { predictImages } from './predict.js';
import { cocoDetections, cocoScore } from './score.js';
import { cocoSummary, type CocoSummary } from './summary.js';

export interface RunEvaluation {
  runId: number;
  split: string;
  images: number;
  /** COCOeval's summary by name. */
  coco: CocoSummary;
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

/** A stored evaluation as it reads today (those stored before the named summary carry pycocotools' stats). */
export function readEvaluation(stored: unknown): RunEvaluation {
  const e = stored as RunEvaluation & { stats?: number[] };
  if (!e.coco && e.stats) {
    const { stats, ...rest } = e;
    return { ...rest, coco: cocoSummary(stats) };
  }
  return e;
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
  const imgsz = run.settings.data.imgsz;
  // `best` is named when the run starts; the file exists once a validated epoch has been saved.
  if (!run.artifacts.best || !fs.existsSync(run.artifacts.best))
    throw new StarlingError('INVALID_INPUT', `run ${runId} has no checkpoint yet (${run.status}): nothing to evaluate`);
  const checkpointTime = fs.statSync(run.artifacts.best).mtimeMs;
  const model = buildDetector(run.settings.model);
  loadWeights(model, run.artifacts.best);
  const figures = modelFigures(model, imgsz, (g) => void model.forward(g.input('images', [1, 3, imgsz, imgsz])));
  // The same graph `starling export` writes, so the numbers are the exported model's.
  const style = model.head.evalStyle;
  const { bytes } = exportDetector(model, { imgsz, style });
  const session = await ort.InferenceSession.create(bytes);
  const { images, classes } = splitTruth(store, split);
  const { digest } = store.labelsFingerprint(split);
  let inferenceMs = 0;
  let result;
  try {
    result = await predictImages(
      images,
      { session, inputName: 'images', imgsz, layout: model.head.styleLayout(style)! },
      { ...EVAL_DECODE, conf },
    );
    // Inference latency on its own: warm-up, then timed runs of one image (the split's last, or grey).
    const input =
      result.lastInput ??
      new ort.Tensor('float32', new Float32Array(3 * imgsz * imgsz).fill(114 / 255), [1, 3, imgsz, imgsz]);
    inferenceMs = (await measureLatency(session, { images: input })).medianMs;
  } finally {
    await session.release();
  }
  const { predictions } = result;
  const gt = cocoGroundTruth(images, classIndices(classes.length));
  const dets = cocoDetections(predictions);
  const r = cocoScore(gt, dets);
  const { cells: _cells, ...metrics } = cocoDetectionMetrics(gt, dets);
  const cpus = os.cpus();
  const evaluation: RunEvaluation = {
    runId,
    split,
    images: images.length,
    coco: r.summary,
    metrics,
    perClass: r.perClass.map((p, i) => ({ name: classes[i]!.name, ap: p.ap, ap50: p.ap50 })),
    parameters: figures.parameters,
    gflops: figures.gflops,
    imgsz,
    latency: {
      inferenceMs,
      preprocessMs: median(predictions.map((p) => p.preMs)),
      postprocessMs: median(predictions.map((p) => p.postMs)),
      machine: `${cpus[0]?.model.trim() ?? 'unknown CPU'} (${cpus.length} logical cores), onnxruntime ${ort.env.versions.common} CPU`,
      concurrentJobs,
    },
    labelsDigest: digest,
    checkpointTime,
    evaluatedAt: Date.now(),
  };
  // Predictions (for the detection review) and the leaderboard entry change together.
  const stored = predictions.flatMap((p) =>
    p.detections.map((d) => ({
      imageId: p.image.id,
      classId: classes[d.classId]!.id,
      x: d.box[0],
      y: d.box[1],
      w: d.box[2],
      h: d.box[3],
      score: d.score,
    })),
  );
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
