/**
 * Loaded means equal: the real Ultralytics YOLOv8n in ../shared/fixtures/ultralytics (trained by Ultralytics on
 * the sample, see its README) gives Ultralytics' own numbers in Starling. From the .pt (read without running
 * anything of Ultralytics) Starling's YOLOv8n computes output0.f32 on input.f32; the Ultralytics ONNX export
 * does too on onnxruntime; Starling's letterbox of image.jpg is Ultralytics' input.f32; and `starling predict`
 * finds the boxes of predictions.json, with the ONNX file and with Starling's own export of the .pt.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDetector } from '../../src-main/export/detector.js';
import { boxIou } from '../../src-main/inference/boxes.js';
import { letterbox } from '../../src-main/inference/letterbox.js';
import { predict, type Prediction } from '../../src-main/inference/predictor.js';
import { loadWeights } from '../../src-main/models/weights.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Runner } from '../../src-main/runtime/session.js';
import { tempDir } from '../helpers.js';
import { readF32, ultralyticsFixture } from '../third-party.js';

const FIX = ultralyticsFixture();
const NAMES = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'];

let tmp: ReturnType<typeof tempDir>;
let runner: Runner;
beforeAll(() => {
  tmp = tempDir();
  runner = new Runner({ device: 'cpu', intraOpThreads: 1 });
});
afterAll(async () => {
  await runner.dispose();
  tmp.cleanup();
});

/** The worst element error relative to the reference's magnitude (floored at 1, as outputs are pixels and scores). */
function worstRelative(a: Float32Array, ref: Float32Array): number {
  expect(a.length).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!)));
  return worst;
}

async function run(key: string, bytes: Uint8Array): Promise<Float32Array> {
  const out = await runner.run(key, () => bytes, {
    images: { dtype: 'float32', shape: [1, 3, 320, 320], data: readF32(`${FIX}/input.f32`) },
  });
  expect(out.output0!.dims).toEqual([1, 10, 2100]);
  return out.output0!.data as Float32Array;
}

/** Every reference box found: same class, IoU >= 0.9, score within 0.02; no extra boxes. */
function expectUltralyticsBoxes(p: Prediction) {
  const ref = (JSON.parse(fs.readFileSync(`${FIX}/predictions.json`, 'utf8')) as { boxes_xyxy_score_class: number[][] })
    .boxes_xyxy_score_class;
  expect(p.detections).toHaveLength(ref.length);
  const used = new Set<number>();
  for (const [x1, y1, x2, y2, score, cls] of ref) {
    const box = [x1!, y1!, x2! - x1!, y2! - y1!];
    let best = -1;
    let bestIou = 0;
    p.detections.forEach((d, i) => {
      if (used.has(i) || d.classId !== cls) return;
      const iou = boxIou(d.box, box);
      if (iou > bestIou) [best, bestIou] = [i, iou];
    });
    expect(bestIou, `reference box ${NAMES[cls!]} ${score}`).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(p.detections[best]!.score - score!)).toBeLessThanOrEqual(0.02);
    used.add(best);
  }
}

describe.skipIf(!FIX)('the Ultralytics fixture in Starling', () => {
  it("letterboxes image.jpg into exactly Ultralytics' input.f32 (OpenCV INTER_LINEAR, its padding)", async () => {
    const lb = await letterbox({ file: `${FIX}/image.jpg`, boxes: [] }, 320);
    const ref = readF32(`${FIX}/input.f32`);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(lb.data[i]! - ref[i]!));
    expect(worst).toBe(0);
  });

  it("computes output0.f32 from the .pt, so names, layer order, BatchNorm and DFL are Ultralytics'", async () => {
    const d = buildDetector({ model: 'yolov8', backbone: 'yolov8', scale: 'n', nc: 6 });
    const r = loadWeights(d, `${FIX}/yolov8n-sample6.pt`);
    expect(r).toMatchObject({ format: 'ultralytics', missing: [], unexpected: [], shapeMismatch: [], coverage: 1 });
    const { bytes } = exportDetector(d, { imgsz: 320, style: 'raw', names: NAMES });
    expect(worstRelative(await run('pt', bytes), readF32(`${FIX}/output0.f32`))).toBeLessThan(1e-3);
    fs.writeFileSync(`${tmp.dir}/starling.onnx`, bytes);
  });

  it('computes output0.f32 with the ONNX file Ultralytics exported', async () => {
    const bytes = new Uint8Array(fs.readFileSync(`${FIX}/yolov8n-sample6.onnx`));
    expect(worstRelative(await run('onnx', bytes), readF32(`${FIX}/output0.f32`))).toBeLessThan(1e-3);
  });

  it("finds predictions.json's boxes with `predict`, from the Ultralytics ONNX and from Starling's export", async () => {
    const o = { conf: 0.01, iou: 0.7, maxDet: 300 };
    const [fromOnnx] = await predict(`${FIX}/yolov8n-sample6.onnx`, [`${FIX}/image.jpg`], o);
    expect(fromOnnx!.detections.map((d) => d.name)).toContain('cross');
    expectUltralyticsBoxes(fromOnnx!);
    const [fromPt] = await predict(`${tmp.dir}/starling.onnx`, [`${FIX}/image.jpg`], o);
    expectUltralyticsBoxes(fromPt!);
  });
});
