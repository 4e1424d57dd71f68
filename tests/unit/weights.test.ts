/**
 * Starting weights from the files people have: an Ultralytics YOLO11n checkpoint (a pickled DetectionModel in
 * float16), torchvision's ImageNet classifiers and a StarNet release as backbone-only checkpoints, all written by
 * Debian's PyTorch at test time (tests/fixtures/torch/make_checkpoints.py). Loaded backbones are run and compared
 * with PyTorch's own forward of the same weights; refused files load nothing.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceModel } from '../../src-main/engine/export.js';
import type { Module } from '../../src-main/engine/nn.js';
import type { Backbone } from '../../src-main/models/backbone.js';
import type { Detector } from '../../src-main/models/detector.js';
import { applyWeights, assessPlan, planWeights, readWeightSource } from '../../src-main/models/weights.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Runner } from '../../src-main/runtime/session.js';
import { tempDir } from '../helpers.js';
import { makeCheckpoints, pythonWithTorch, readF32, type CheckpointsInfo } from '../third-party.js';

const python = pythonWithTorch();
const SAMPLE_CLASSES = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'];

let tmp: ReturnType<typeof tempDir>;
let info: CheckpointsInfo;
let runner: Runner;
beforeAll(() => {
  tmp = tempDir();
  if (python) info = makeCheckpoints(python, tmp.dir);
  runner = new Runner({ device: 'cpu', intraOpThreads: 1 });
}, 240_000);
afterAll(async () => {
  await runner.dispose();
  tmp.cleanup();
});

const tensor = (m: Module, name: string) => [...m.namedTensors()].find(([n]) => n === name)![1];

/** The plain backbone inside a detector (`model.0`). */
function backboneOf(d: Detector): Backbone {
  const list = d.children().find(([n]) => n === 'model')![1];
  return list.children().find(([n]) => n === '0')![1] as unknown as Backbone;
}

/** The backbone's last (stride-32) map on the fixture input, through onnxruntime. */
async function lastMap(d: Detector, key: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const bb = backboneOf(d);
  const { bytes } = inferenceModel(d, {
    input: { name: 'images', shape: [1, 3, 64, 64] },
    outputs: (x) => ({ out: bb.features(x).at(-1)! }),
  });
  const out = await runner.run(key, () => bytes, {
    images: { dtype: 'float32', shape: [1, 3, 64, 64], data: readF32(`${tmp.dir}/input64.f32`) },
  });
  return { data: out.out!.data as Float32Array, dims: out.out!.dims };
}

function expectClose(a: Float32Array, b: Float32Array, tol: number) {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  expect(worst).toBeLessThan(tol);
}

describe.skipIf(!python)('starting weights from third-party checkpoints', () => {
  it('reads an Ultralytics YOLO11n checkpoint without running it: its card and every tensor, by name', () => {
    const src = readWeightSource(`${tmp.dir}/yolo11n.pt`);
    expect(src.format).toBe('ultralytics');
    expect(src.card).toMatchObject({
      modelClass: 'ultralytics.nn.tasks.DetectionModel',
      nc: 80,
      scale: 'n',
      yamlFile: 'yolo11n.yaml',
      strides: [8, 16, 32],
      imgsz: 640,
      version: '8.3.0',
    });
    expect(src.card!.layers.slice(8, 11)).toEqual(['C3k2', 'SPPF', 'C2PSA']);
    expect(src.card!.layers.at(-1)).toBe('Detect');
    // A dict key named "kind" (in train_args) is data, not taken for one of the reader's own values.
    expect(src.classNames![10]).toBe('circle');

    const d = buildDetector({ model: 'yolo11', backbone: 'yolo11', scale: 'n', nc: 80 });
    const plan = planWeights(d, src);
    expect(plan.report).toMatchObject({ mode: 'model', missing: [], unexpected: [], shapeMismatch: [], coverage: 1 });
    applyWeights(d, src, plan);
    const params = d.parameters().reduce((n, p) => n + p.size, 0);
    expect(params).toBe(info.parameters); // 2,624,080, Ultralytics' own count
    for (const [name, [sum, first]] of Object.entries(info.tensors)) {
      const t = tensor(d, name);
      expect(t.data[0], name).toBe(first);
      expect(
        t.data.reduce((a, b) => a + b, 0),
        name,
      ).toBeCloseTo(sum, 1);
    }
  });

  it('re-initialises the class branch for another class count and keeps the rest (Ultralytics: intersect_dicts)', () => {
    const src = readWeightSource(`${tmp.dir}/yolo11n.pt`);
    const d = buildDetector({ model: 'yolo11', backbone: 'yolo11', scale: 'n', nc: 6 });
    const plan = planWeights(d, src, { classNames: SAMPLE_CLASSES });
    const r = plan.report;
    // At n the class branch is max(64, min(nc, 100)) wide: 80 for the file, 64 here, so it all starts fresh.
    expect(r.reinitialised.length).toBeGreaterThan(6);
    expect(r.reinitialised.every((n) => n.startsWith('model.23.cv3.'))).toBe(true);
    expect(r).toMatchObject({ missing: [], unexpected: [], shapeMismatch: [] });
    expect(r.classes).toBeUndefined(); // no class layer could take its rows
    expect(assessPlan(r)).toBeNull();
    expect(r.coverage).toBeGreaterThan(0.9);
  });

  it('carries class rows over by name where the class branch keeps its width', () => {
    // A Starling YOLO11s on 80 classes, as a source that names its classes (as an Ultralytics card does).
    const names = Array.from({ length: 80 }, (_, i) => `coco${i}`);
    names[10] = 'circle';
    names[33] = 'Star';
    const from = buildDetector({ model: 'yolo11', backbone: 'yolo11', scale: 's', nc: 80 });
    const src = {
      file: 'coco.pt',
      format: 'ultralytics' as const,
      sha256: '',
      classNames: names,
      tensors: new Map([...from.namedTensors()].map(([n, p]) => [n, { shape: [...p.shape], data: p.data }])),
    };
    const d = buildDetector({ model: 'yolo11', backbone: 'yolo11', scale: 's', nc: 6 });
    const fresh = Float32Array.from(tensor(d, 'model.23.cv3.0.2.bias').data);
    const plan = planWeights(d, src, { classNames: SAMPLE_CLASSES });
    expect(plan.report.classes).toEqual({
      carried: ['circle', 'star'],
      fresh: ['square', 'triangle', 'hexagon', 'cross'],
    });
    expect(plan.report).toMatchObject({ missing: [], reinitialised: [], shapeMismatch: [], coverage: 1 });
    applyWeights(d, src, plan);
    const file = src.tensors.get('model.23.cv3.0.2.bias')!.data;
    const bias = tensor(d, 'model.23.cv3.0.2.bias').data;
    expect(bias[0]).toBe(file[10]); // circle is the file's class 10
    expect(bias[3]).toBe(file[33]); // "Star" its class 33
    expect(bias[1]).toBe(fresh[1]); // square is new: its initial prior stays
    const w = tensor(d, 'model.23.cv3.1.2.weight');
    const row = w.size / 6;
    const fw = src.tensors.get('model.23.cv3.1.2.weight')!.data;
    expect(Array.from(w.data.subarray(3 * row, 4 * row))).toEqual(Array.from(fw.subarray(33 * row, 34 * row)));
    // The same classes in another order are reordered, not loaded as they are.
    const six = buildDetector({ model: 'yolo11', backbone: 'yolo11', scale: 's', nc: 6 });
    const reversed = {
      ...src,
      classNames: [...SAMPLE_CLASSES].reverse(),
      tensors: new Map([...six.namedTensors()].map(([n, p]) => [n, { shape: [...p.shape], data: p.data }])),
    };
    const shuffled = planWeights(d, reversed, { classNames: SAMPLE_CLASSES });
    expect(shuffled.report.classes?.carried).toEqual(SAMPLE_CLASSES);
    applyWeights(d, reversed, shuffled);
    expect(tensor(d, 'model.23.cv3.2.2.bias').data[0]).toBe(tensor(six, 'model.23.cv3.2.2.bias').data[5]);
  });

  for (const [file, backbone, ref] of [
    ['shufflenet_v2_x1_0.pth', 'shufflenetv2_x1_0', 'shufflenet_v2_x1_0'],
    ['mobilenet_v3_small.pth', 'mobilenetv3_small', 'mobilenet_v3_small'],
    ['starnet_s1.pth.tar', 'starnet_s1', 'starnet_s1'],
  ] as const) {
    it(`maps ${file} onto the ${backbone} backbone and computes what PyTorch computes with it`, async () => {
      const src = readWeightSource(`${tmp.dir}/${file}`);
      // StarNet's release is at width 1; torchvision's backbones have fixed widths.
      const d = buildDetector({
        backbone,
        scale: 'n',
        nc: 6,
        ...(backbone === 'starnet_s1' ? { backboneWidth: 1 } : {}),
      });
      const plan = planWeights(d, src);
      expect(plan.report.mode).toBe('backbone');
      expect(plan.report.backboneCoverage).toBe(1);
      expect(plan.report.unexpected).toEqual([]);
      expect(plan.report.shapeMismatch).toEqual([]);
      expect(plan.report.dropped.length).toBeGreaterThan(0); // the classifier
      expect(plan.report.dropped.every((n) => /^(fc|conv5|classifier|norm|head)\./.test(n))).toBe(true);
      expect(assessPlan(plan.report)).toBeNull();
      applyWeights(d, src, plan);
      const out = await lastMap(d, file);
      expect([...out.dims]).toEqual(info.shapes[ref]);
      expectClose(out.data, readF32(`${tmp.dir}/${ref}.out.f32`), 1e-4);
    });
  }

  it('says a StarNet at the scale width cannot take the release, and the start picks the width (start-weights)', () => {
    const src = readWeightSource(`${tmp.dir}/starnet_s1.pth.tar`);
    const narrow = planWeights(buildDetector({ backbone: 'starnet_s1', scale: 'n', nc: 6 }), src);
    expect(assessPlan(narrow.report)).toMatch(/no tensor in it matches|fit the model|fills only/);
    expect(narrow.report.shapeMismatch.length + narrow.report.unexpected.length).toBeGreaterThan(100);
  });

  it('refuses what almost nothing of fits: another architecture, another scale', () => {
    const src = readWeightSource(`${tmp.dir}/yolo11n.pt`);
    const v8 = planWeights(buildDetector({ model: 'yolov8', backbone: 'yolov8', scale: 'n', nc: 80 }), src);
    expect(assessPlan(v8.report)).toMatch(/only \d+(\.\d)?% of its tensors fit the model/);
    const s = planWeights(buildDetector({ model: 'yolo11', backbone: 'yolo11', scale: 's', nc: 80 }), src);
    expect(s.report.shapeMismatch.length).toBeGreaterThan(300);
    expect(assessPlan(s.report)).toMatch(/fit the model/);
  });

  it('refuses a truncated checkpoint with its name and reason, and loads nothing', () => {
    const bytes = fs.readFileSync(`${tmp.dir}/yolo11n.pt`);
    for (const [name, keep] of [
      ['cut-end.pt', bytes.length - 1000], // the central directory is gone
      ['cut-half.pt', bytes.length >> 1],
    ] as const) {
      fs.writeFileSync(`${tmp.dir}/${name}`, bytes.subarray(0, keep));
      expect(() => readWeightSource(`${tmp.dir}/${name}`)).toThrow(
        new RegExp(`${name}: (not a zip|.*truncated|.*broken)`),
      );
    }
    expect(() => readWeightSource(`${tmp.dir}/missing.pt`)).toThrow(/missing\.pt: cannot read \(ENOENT\)/);
    expect(() => readWeightSource(tmp.dir)).toThrow(/not a regular file/);
  });
});
