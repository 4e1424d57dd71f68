/**
 * Runs the live teachers of a distillation run on each augmented batch, in the training job's worker: the
 * student's batch goes in as it is, resized in a small ONNX graph (bilinear, pixel-centre) when a teacher takes
 * another input size; a teacher with a dynamic batch runs the batch at once, a fixed-batch one image by image.
 * Sessions come from the trainer's Runner (same device and threads), one per teacher and batch size.
 */
import fs from 'node:fs';
import * as F from '../../engine/functional.js';
import { Graph } from '../../engine/ir.js';
import { encodeModel } from '../../engine/onnx-writer.js';
import { asOutputs, decode, type Detection, type Outputs } from '../../inference/decode.js';
import type { Runner } from '../../runtime/session.js';
import type { DistillTeacher } from './teachers.js';

export class TeacherRunner {
  private readonly bytes = new Map<string, Uint8Array>();

  constructor(
    private readonly runner: Runner,
    /** The student's input size: batches arrive as [n, 3, size, size]. */
    private readonly size: number,
  ) {}

  private modelBytes(file: string): Uint8Array {
    let b = this.bytes.get(file);
    if (!b) this.bytes.set(file, (b = new Uint8Array(fs.readFileSync(file))));
    return b;
  }

  /** The batch at the teacher's input size. */
  private async resized(images: Float32Array, n: number, to: number): Promise<Float32Array> {
    if (to === this.size) return images;
    const out = await this.runner.run(
      `distill-resize:${this.size}->${to}:b${n}`,
      () => {
        const g = new Graph();
        const x = g.input('x', [n, 3, this.size, this.size]);
        return encodeModel({ graph: g, outputs: { y: F.resizeBilinear(x, [to, to]) }, name: 'resize' }).bytes;
      },
      { x: { dtype: 'float32', shape: [n, 3, this.size, this.size], data: images } },
    );
    return out.y!.data as Float32Array;
  }

  /** A teacher's raw outputs on the batch (`n` images). */
  async outputs(t: DistillTeacher, images: Float32Array, n: number): Promise<Outputs> {
    const s = t.probe.imgsz;
    const input = await this.resized(images, n, s);
    const plane = 3 * s * s;
    const model = () => this.modelBytes(t.file);
    if (t.probe.dynamicBatch) {
      const res = await this.runner.run(`teacher:${t.sha256}:b${n}`, model, {
        [t.probe.inputName]: { dtype: 'float32', shape: [n, 3, s, s], data: input },
      });
      return asOutputs(res);
    }
    // One image at a time, the outputs stacked along the batch.
    const parts: Outputs[] = [];
    for (let k = 0; k < n; k++) {
      const res = await this.runner.run(`teacher:${t.sha256}:b1`, model, {
        [t.probe.inputName]: {
          dtype: 'float32',
          shape: [1, 3, s, s],
          data: input.subarray(k * plane, (k + 1) * plane),
        },
      });
      parts.push(asOutputs(res));
    }
    const stacked: Outputs = {};
    for (const name of Object.keys(parts[0]!)) {
      const dims = [n, ...parts[0]![name]!.dims.slice(1)];
      const per = parts[0]![name]!.data.length;
      const data = new Float32Array(n * per);
      parts.forEach((p, k) => data.set(p[name]!.data, k * per));
      stacked[name] = { dims, data };
    }
    return stacked;
  }

  /**
   * A teacher's boxes on image `b` of the batch, in the student's input pixels, classes mapped onto the
   * student's (untaught ones dropped), at least `conf`.
   */
  boxes(t: DistillTeacher, outputs: Outputs, b: number, conf: number): Detection[] {
    // A Starling teacher's extra `dfl` output is not part of its layout.
    const readable = t.dfl ? { output0: outputs.output0! } : outputs;
    const dets = decode(t.probe.family, readable, b, { conf, iou: 0.7, maxDet: 300, inputSize: t.probe.imgsz });
    const k = this.size / t.probe.imgsz;
    const out: Detection[] = [];
    for (const d of dets) {
      const cls = t.toStudent[d.classId];
      if (cls === null || cls === undefined) continue;
      out.push({ classId: cls, score: d.score, box: [d.box[0] * k, d.box[1] * k, d.box[2] * k, d.box[3] * k] });
    }
    return out;
  }
}
