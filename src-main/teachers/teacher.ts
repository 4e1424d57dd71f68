/**
 * A teacher: any detector ONNX the user brings. `probeTeacher` inspects the file (input, metadata, class names),
 * runs it once on a blank image so dynamic output shapes become concrete, and detects its family from the
 * outputs (with a manual override that must still fit). `TeacherSession` runs it on letterboxed images,
 * batched when the model's batch dimension is dynamic, optionally with a horizontally flipped view (TTA).
 */
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import {
  asOutputs,
  checkLayout,
  classCountOf,
  decode,
  detectLayout,
  layoutNames,
  type Detection,
  type Layout,
} from '../inference/decode.js';
import { flipChw, hwcToChw } from '../inference/letterbox.js';
import { inspectModel } from '../inference/predictor.js';
import type { TeacherProbe } from '../settings/teacher-config.js';

export type { TeacherProbe, TeacherSettings } from '../settings/teacher-config.js';

async function openSession(file: string): Promise<ort.InferenceSession> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such model file`);
  return ort.InferenceSession.create(file).catch((e: unknown) => {
    throw new Error(`${file}: onnxruntime cannot load it (${(e as Error).message})`);
  });
}

export async function probeTeacher(
  file: string,
  o: { family?: Layout; names?: string[]; imgsz?: number } = {},
): Promise<TeacherProbe> {
  if (o.family && !layoutNames().includes(o.family))
    throw new Error(`unknown family ${String(o.family)}; expected one of ${layoutNames().join(', ')}`);
  const info = inspectModel(file);
  const session = await openSession(file);
  try {
    const meta = session.inputMetadata.find((m) => m.name === info.inputName);
    const shape = meta && 'shape' in meta ? (meta.shape as (number | string)[]) : [];
    const dynamicBatch = typeof shape[0] !== 'number';
    const imgsz = o.imgsz ?? info.imgsz;
    const res = await session.run({
      [info.inputName]: new ort.Tensor('float32', new Float32Array(3 * imgsz * imgsz).fill(114 / 255), [
        1,
        3,
        imgsz,
        imgsz,
      ]),
    });
    const outs = asOutputs(res);
    // A model that answers NaN or infinity on a plain gray image is broken (or needs inputs it was not given):
    // registering it would only fail later, in the middle of a job.
    for (const [name, t] of Object.entries(outs)) {
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new Error(
          `its output ${name} [${t.dims.join(', ')}] holds ${t.data[bad]} (at ${bad}) on a plain gray image: not usable as a teacher`,
        );
    }
    const family = o.family ?? detectLayout(outs, info.metadata);
    try {
      checkLayout(family, outs);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    const names = o.names?.length ? o.names : info.names;
    const classCount = classCountOf(family, outs);
    if (classCount !== null && names.length && names.length !== classCount)
      throw new Error(`${file}: ${names.length} class names for a model with ${classCount} classes`);
    if (classCount === null && !names.length)
      throw new Error(
        `${file}: ${family} outputs do not tell how many classes the model has, and it has no "names" metadata: give its class names (\`--names a,b,c\`, or Class names in the Teachers view)`,
      );
    return {
      file,
      family,
      detected: !o.family,
      inputName: info.inputName,
      imgsz,
      dynamicBatch,
      names: names.length ? names : Array.from({ length: classCount ?? 0 }, (_, i) => `class${i}`),
      outputs: Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, [...v.dims]])),
      metadata: info.metadata,
    };
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(file) ? msg : `${file}: ${msg}`);
  } finally {
    await session.release();
  }
}

export class TeacherSession {
  private constructor(
    readonly probe: TeacherProbe,
    private readonly session: ort.InferenceSession,
  ) {}

  static async open(probe: TeacherProbe): Promise<TeacherSession> {
    return new TeacherSession(probe, await openSession(probe.file));
  }

  /**
   * Detections per image (network-input pixels) for letterboxed images of size `probe.imgsz`, given as CHW
   * floats or as packed RGB bytes (converted straight into the batch); with `flip`, each image is also run
   * flipped and that view's boxes are mapped back: one list per view.
   */
  async detect(
    images: (Float32Array | Uint8Array)[],
    o: { conf: number; iou: number; maxDet: number; flip?: boolean },
  ): Promise<Detection[][][]> {
    const s = this.probe.imgsz;
    const plane = 3 * s * s;
    const views = images.flatMap((im) =>
      o.flip
        ? [
            { im, flip: false },
            { im, flip: true },
          ]
        : [{ im, flip: false }],
    );
    const perView: Detection[][] = [];
    const chunk = this.probe.dynamicBatch ? views.length : 1;
    for (let i = 0; i < views.length; i += chunk) {
      const part = views.slice(i, i + chunk);
      const data = new Float32Array(part.length * plane);
      part.forEach((v, k) => {
        if (v.im instanceof Float32Array) data.set(v.flip ? flipChw(v.im, s) : v.im, k * plane);
        else hwcToChw(v.im, s, data, k * plane, v.flip);
      });
      const res = await this.session.run({
        [this.probe.inputName]: new ort.Tensor('float32', data, [part.length, 3, s, s]),
      });
      const outs = asOutputs(res);
      for (let b = 0; b < part.length; b++)
        perView.push(decode(this.probe.family, outs, b, { conf: o.conf, iou: o.iou, maxDet: o.maxDet, inputSize: s }));
    }
    if (!o.flip) return perView.map((d) => [d]);
    return images.map((_, k) => [
      perView[2 * k]!,
      perView[2 * k + 1]!.map((d) => ({
        ...d,
        box: [s - d.box[0] - d.box[2], d.box[1], d.box[2], d.box[3]] as [number, number, number, number],
      })),
    ]);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
