/**
 * Runs any supported detector ONNX on image files: letterbox to the model's input size, one session run per
 * batch, decode, and boxes mapped back to original image pixels.
 */
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { parseNames } from '../export/metadata.js';
import { keepPlausible, type DroppedDetections } from './boxes.js';
import {
  asOutputs,
  classCountOf,
  decode,
  detectLayout,
  type DecodeOptions,
  type Detection,
  type Layout,
} from './decode.js';
import { letterbox, unletterbox } from './letterbox.js';

const { onnx } = onnxProto;

export interface Prediction {
  file: string;
  detections: (Detection & { name: string })[];
  /** Impossible detections left out (class ids the model does not have, boxes with nothing inside the image). */
  dropped: DroppedDetections;
}

export interface ModelInfo {
  inputName: string;
  imgsz: number;
  names: string[];
  metadata: Record<string, string>;
}

/** Input name, size and class names from the model file (Ultralytics-style metadata when present). */
export function inspectModel(file: string): ModelInfo {
  let model;
  try {
    model = onnx.ModelProto.decode(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: not a readable ONNX model (${(e as Error).message})`);
  }
  const metadata = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const inits = new Set((model.graph?.initializer ?? []).map((i) => i.name));
  const input = (model.graph?.input ?? []).find((i) => !inits.has(i.name));
  if (!input) throw new Error(`${file}: the model has no input`);
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const fromShape = dims.length === 4 && dims[2]?.dimValue ? Number(dims[2].dimValue) : undefined;
  const fromMeta = metadata.imgsz ? Number(/\d+/.exec(metadata.imgsz)?.[0]) : undefined;
  return {
    inputName: input.name!,
    imgsz: fromShape ?? fromMeta ?? 640,
    names: metadata.names ? parseNames(metadata.names) : [],
    metadata,
  };
}

export async function predict(
  modelFile: string,
  images: string[],
  o: DecodeOptions & { imgsz?: number; layout?: Layout },
): Promise<Prediction[]> {
  if (!fs.existsSync(modelFile)) throw new Error(`${modelFile}: no such model file`);
  const info = inspectModel(modelFile);
  const size = o.imgsz ?? info.imgsz;
  const session = await ort.InferenceSession.create(modelFile).catch((e: unknown) => {
    throw new Error(`${modelFile}: onnxruntime cannot load it (${(e as Error).message})`);
  });
  const out: Prediction[] = [];
  try {
    for (const file of images) {
      const lb = await letterbox({ file, boxes: [] }, size);
      const res = await session.run({ [info.inputName]: new ort.Tensor('float32', lb.data, [1, 3, size, size]) });
      const outputs = asOutputs(res);
      const layout = o.layout ?? detectLayout(outputs, info.metadata);
      const classes = info.names.length || classCountOf(layout, outputs);
      // Back to original pixels, then what the model cannot mean is dropped and counted.
      const inImage = decode(layout, outputs, 0, { ...o, inputSize: size }).map((d) => ({
        ...d,
        box: unletterbox(d.box, lb),
      }));
      const dropped = { unknownClass: 0, badBox: 0 };
      const dets = keepPlausible(inImage, { classes, width: lb.width, height: lb.height }, dropped).map((d) => ({
        ...d,
        name: info.names[d.classId] ?? `class${d.classId}`,
      }));
      out.push({ file, detections: dets, dropped });
    }
  } finally {
    await session.release();
  }
  return out;
}
