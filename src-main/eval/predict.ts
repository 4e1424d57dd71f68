/**
 * Predicting a set of images with a session, the way every evaluation does it: letterbox to the model's input,
 * run, decode as EVAL_DECODE says (Ultralytics' val settings), and map the boxes back to image pixels. The
 * session is an exported file's, or the training graph fed the EMA weights (per-epoch validation): the
 * predictor hides which.
 */
import ort from 'onnxruntime-node';
import { asOutputs, decode, type Layout } from '../inference/decode.js';
import type { Detection } from '../inference/boxes.js';
import { letterbox, unletterbox } from '../inference/letterbox.js';
import { EVAL_DECODE } from './coco-eval.js';
import type { EvalImage } from './ground-truth.js';

export interface SessionPredictor {
  session: ort.InferenceSession;
  inputName: string;
  imgsz: number;
  /** How the session's outputs are decoded. */
  layout: Layout;
  /** Other inputs fed with every image (the weights of a training graph). */
  feeds?: Record<string, ort.Tensor>;
}

export interface ImagePrediction {
  image: EvalImage;
  /** Boxes in image pixels. */
  detections: Detection[];
  /** Milliseconds: decode + letterbox, session.run, output decoding + mapping back. */
  preMs: number;
  runMs: number;
  postMs: number;
}

export interface PredictImagesResult {
  predictions: ImagePrediction[];
  /** The last image's network input (a latency measurement repeats it), or null for no images. */
  lastInput: ort.Tensor | null;
}

export async function predictImages(
  images: readonly EvalImage[],
  p: SessionPredictor,
  o: { conf: number; iou: number; maxDet: number } = EVAL_DECODE,
): Promise<PredictImagesResult> {
  const s = p.imgsz;
  const predictions: ImagePrediction[] = [];
  let lastInput: ort.Tensor | null = null;
  for (const image of images) {
    const t0 = performance.now();
    const lb = await letterbox({ file: image.file, boxes: [], width: image.width, height: image.height }, s);
    const input = new ort.Tensor('float32', lb.data, [1, 3, s, s]);
    const t1 = performance.now();
    const res = await p.session.run({ ...p.feeds, [p.inputName]: input });
    const t2 = performance.now();
    const detections = decode(p.layout, asOutputs(res), 0, { ...o, inputSize: s }).map((d) => ({
      ...d,
      box: unletterbox(d.box, lb),
    }));
    predictions.push({ image, detections, preMs: t1 - t0, runMs: t2 - t1, postMs: performance.now() - t2 });
    lastInput = input;
  }
  return { predictions, lastInput };
}
