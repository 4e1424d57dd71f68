import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedInit } from '../../src-main/engine/nn.js';
import { exportDetector } from '../../src-main/export/detector.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { detectLayout } from '../../src-main/inference/decode.js';
import { predict, type Prediction } from '../../src-main/inference/predictor.js';
import { Rng } from '../../src-main/util/random.js';
import { tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
let image: string;
const model = (style: string) => `${tmp.dir}/m-${style}.onnx`;

beforeAll(async () => {
  tmp = tempDir();
  image = `${tmp.dir}/img.jpg`;
  const rng = new Rng('predict-img');
  const raw = Buffer.from(Array.from({ length: 200 * 120 * 3 }, () => rng.int(0, 255)));
  await sharp(raw, { raw: { width: 200, height: 120, channels: 3 } })
    .jpeg()
    .toFile(image);
  seedInit(41);
  const d = buildDetector({ scale: 'n', backbone: 'shufflenetv2_x0_5', nc: 2 });
  // Untrained class logits start very low: spread them so there are detections to compare.
  const r = new Rng('predict-bias');
  for (const [name, p] of d.namedTensors())
    if (/cv3\.\d\.2\.bias$/.test(name)) p.data = p.data.map(() => r.range(-1.5, 1));
  for (const style of ['raw', 'nms'] as const) {
    fs.writeFileSync(
      model(style),
      exportDetector(d, { imgsz: 96, style, names: ['cat', 'dog'], nms: { conf: 0.3, iou: 0.6, maxDet: 50 } }).bytes,
    );
  }
});
afterAll(() => tmp.cleanup());

describe('predict', () => {
  it('decodes raw and in-graph-NMS exports to the same boxes, in original image pixels, with class names', async () => {
    const o = { conf: 0.3, iou: 0.6, maxDet: 50 };
    const [a] = await predict(model('raw'), [image], o);
    const [b] = await predict(model('nms'), [image], o);
    expect(a!.detections.length).toBeGreaterThan(0);
    expect(b!.detections.length).toBe(a!.detections.length);
    const sort = (xs: Prediction['detections']) => [...xs].sort((p, q) => q.score - p.score);
    sort(a!.detections).forEach((d, i) => {
      const e = sort(b!.detections)[i]!;
      expect(e.classId).toBe(d.classId);
      expect(e.score).toBeCloseTo(d.score, 4);
      d.box.forEach((v, k) => expect(Math.abs(v - e.box[k]!)).toBeLessThan(1e-2));
      expect(['cat', 'dog']).toContain(d.name);
    });
    // 96 px input, 200 px wide image: boxes are scaled back by 200/96.
    expect(Math.max(...a!.detections.map((d) => d.box[0] + d.box[2]))).toBeGreaterThan(96);
  });

  it('refuses outputs it does not recognise, naming the shapes', () => {
    expect(() => detectLayout({ feat0: { dims: [1, 24, 16, 16], data: new Float32Array(1) } })).toThrow(
      /unrecognized detector outputs: feat0 \[1, 24, 16, 16\]; expected one of \[B, 4\+C, N\]/,
    );
  });

  it('reports missing, truncated and NaN-producing models clearly', async () => {
    await expect(predict(`${tmp.dir}/none.onnx`, [image], { conf: 0.25, iou: 0.7, maxDet: 10 })).rejects.toThrow(
      /none\.onnx: no such model file/,
    );
    const bytes = fs.readFileSync(model('raw'));
    fs.writeFileSync(`${tmp.dir}/cut.onnx`, bytes.subarray(0, 1000));
    await expect(predict(`${tmp.dir}/cut.onnx`, [image], { conf: 0.25, iou: 0.7, maxDet: 10 })).rejects.toThrow(
      /cut\.onnx: (not a readable ONNX model|onnxruntime cannot load it|the model has no input)/,
    );
    const { decode } = await import('../../src-main/inference/decode.js');
    expect(() =>
      decode('ultralytics-raw', { output0: { dims: [1, 6, 8], data: new Float32Array(48).fill(NaN) } }, 0, {
        conf: 0.1,
        iou: 0.5,
        maxDet: 5,
      }),
    ).toThrow(/output0 contains NaN/);
  });
});
