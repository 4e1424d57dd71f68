import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src-main/engine/evaluate.js';
import { inferenceModel } from '../../src-main/engine/export.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd } from '../../src-main/engine/ndarray.js';
import { countParameters, nameModules, seedInit } from '../../src-main/engine/nn.js';
import { zooCards } from '../../src-main/models/card.js';
import { modelFigures } from '../../src-main/models/flops.js';
import { backboneEntry, backboneNames, buildDetector } from '../../src-main/models/zoo.js';
import { Rng } from '../../src-main/util/random.js';

/** Ultralytics' own summaries (yolo11.yaml): parameters, gradients, GFLOPs at 640. */
const ULTRALYTICS_YOLO11 = {
  n: [2624080, 2624064, 6.6],
  s: [9458752, 9458736, 21.7],
  m: [20114688, 20114672, 68.5],
  l: [25372160, 25372144, 87.6],
  x: [56966176, 56966160, 196.0],
} as const;

/** Ultralytics' own summaries (yolov8.yaml): parameters, gradients, GFLOPs at 640. */
const ULTRALYTICS_YOLOV8 = {
  n: [3157200, 3157184, 8.9],
  s: [11166560, 11166544, 28.8],
  m: [25902640, 25902624, 79.3],
  l: [43691520, 43691504, 165.7],
  x: [68229648, 68229632, 258.5],
} as const;

describe('model zoo', () => {
  it('lists backbone cards alone (for the Train view picker), counted once per image size', () => {
    const cards = zooCards(64, 'backbone');
    expect(cards.map((c) => c.name)).toEqual(backboneNames());
    expect(cards.every((c) => c.kind === 'backbone' && c.parameters > 0 && c.gflops > 0)).toBe(true);
    expect(zooCards(64, 'backbone')[0]).toBe(cards[0]); // the same card, not counted again
    expect(zooCards(96, 'backbone')[0]!.gflops).toBeGreaterThan(cards[0]!.gflops);
  });

  for (const [scale, [params, grads, gflops]] of Object.entries(ULTRALYTICS_YOLO11)) {
    it(`YOLO11${scale} matches Ultralytics: ${params} parameters, ${gflops} GFLOPs`, () => {
      const d = buildDetector({ scale, backbone: 'yolo11', head: 'yolo', nc: 80 });
      const f = modelFigures(d, 640, (g) => void d.forward(g.input('images', [1, 3, 640, 640])));
      expect(f.parameters).toBe(params);
      expect(f.trainable).toBe(grads);
      expect(Number(f.gflops.toFixed(1))).toBe(gflops);
      expect(d.layerCount).toBe(24); // model.0 ... model.23 (Detect)
    });
  }

  for (const [scale, [params, grads, gflops]] of Object.entries(ULTRALYTICS_YOLOV8)) {
    it(`YOLOv8${scale} matches Ultralytics: ${params} parameters, ${gflops} GFLOPs`, () => {
      const d = buildDetector({ model: 'yolov8', scale, backbone: 'yolov8', head: 'yolo', nc: 80 });
      const f = modelFigures(d, 640, (g) => void d.forward(g.input('images', [1, 3, 640, 640])));
      expect(f.parameters).toBe(params);
      expect(f.trainable).toBe(grads);
      expect(Math.abs(f.gflops - gflops)).toBeLessThan(0.06);
      expect(d.layerCount).toBe(23); // model.0 ... model.22 (Detect)
    });
  }

  it("YOLOv8x-p2 matches Ultralytics' 66,637,536 parameters, its Detect at model.28 over P2-P5", () => {
    // Ultralytics' summary of yolov8x-p2.yaml at 80 classes (ultralytics/ultralytics#3607): fewer than YOLOv8x's,
    // as its Detect sizes its branches from the P2 map's channels.
    const d = buildDetector({ model: 'yolov8-p2', scale: 'x', backbone: 'yolov8', head: 'yolo', nc: 80 });
    expect(countParameters(d).total).toBe(66637536);
    expect(d.layerCount).toBe(29);
    expect(d.outputStrides).toEqual([4, 8, 16, 32]);
    // The same blocks as YOLOv8 up to P3's top-down C2f (model.15), then the P2 branch (16-18).
    const names = new Set([...d.namedTensors()].map(([n]) => n));
    expect(names.has('model.18.cv1.conv.weight')).toBe(true);
    expect(names.has('model.28.cv2.3.2.weight')).toBe(true); // a fourth level's box branch
  });

  it('yolo11-p2 predicts at strides 4-32 with a plain backbone: 4x the anchors, exported and run', async () => {
    seedInit(3);
    const d = buildDetector({ model: 'yolo11-p2', scale: 'n', backbone: 'starnet_s050', nc: 2 });
    expect(d.outputStrides).toEqual([4, 8, 16, 32]);
    expect(d.layerCount).toBe(26); // the seed layout's 20 layers and the P2 branch's 6
    const base = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: 2 });
    expect(countParameters(d).total).toBeGreaterThan(countParameters(base).total);
    const size = 64;
    const anchors = [4, 8, 16, 32].reduce((n, st) => n + (size / st) ** 2, 0);
    const { bytes } = inferenceModel(d, { input: { name: 'images', shape: [1, 3, size, size] } });
    const session = await ort.InferenceSession.create(bytes);
    const input = new Float32Array(3 * size * size).fill(0.5);
    const out = (await session.run({ images: new ort.Tensor('float32', input, [1, 3, size, size]) })).output!;
    expect(out.dims).toEqual([1, 4 + 2, anchors]);
    // Boxes scale with their level's stride: DFL distances are at most 15 cells, so a P2 box is at most 120 px
    // wide and the P5 boxes may be up to 960.
    const o = out.data as Float32Array;
    const widths = o.subarray(2 * anchors, 3 * anchors);
    expect(Math.max(...widths.subarray(0, 256))).toBeLessThanOrEqual(2 * 15 * 4);
    expect(Math.max(...widths.subarray(anchors - 4))).toBeGreaterThan(2 * 15 * 4);
    expect(() => buildDetector({ model: 'yolo11-p2', scale: 'n', head: 'yolov5', nc: 2 })).toThrow(
      /anchors for 3 levels, the neck gives 4/,
    );
  });

  it("YOLOv8n at 6 classes has the fixture checkpoint's 3,012,018 parameters and its names", () => {
    const d = buildDetector({ model: 'yolov8', scale: 'n', backbone: 'yolov8', nc: 6 });
    expect(d.parameters().reduce((n, p) => n + p.size, 0)).toBe(3012018);
    const names = [...d.namedTensors()].map(([n]) => n);
    expect(names).toContain('model.9.cv2.conv.weight'); // SPPF
    expect(names).toContain('model.21.m.0.cv1.conv.weight'); // the last C2f
    expect(names).toContain('model.22.cv3.2.1.conv.weight'); // v8's class branch: plain 3x3 Convs
    expect(names).toContain('model.22.dfl.conv.weight');
  });

  it('puts a plain backbone into YOLOv8 as seed 001 does (StarNet at 0, SPPF at 5, Detect at 18)', () => {
    const d = buildDetector({ model: 'yolov8', scale: 'n', backbone: 'starnet_s050', nc: 6 });
    const names = [...d.namedTensors()].map(([n]) => n);
    expect(names[0]).toMatch(/^model\.0\./);
    expect(names).toContain('model.5.cv1.conv.weight');
    expect(names).toContain('model.18.dfl.conv.weight');
  });

  it('names parameters as Ultralytics state dicts do', () => {
    const names = [...buildDetector({ scale: 'n' }).namedTensors()].map(([n]) => n);
    expect(names).toContain('model.0.conv.weight');
    expect(names).toContain('model.2.m.0.cv1.conv.weight');
    expect(names).toContain('model.10.m.0.attn.qkv.conv.weight');
    expect(names).toContain('model.23.cv3.2.1.0.conv.weight');
    expect(names).toContain('model.23.dfl.conv.weight');
    expect(names).toContain('model.0.bn.running_mean');
  });

  it('plugs any registered plain backbone in as layer 0, the seeds way', () => {
    for (const name of backboneNames().filter((n) => !backboneEntry(n).build({ width: 0.25 }).layered)) {
      const d = buildDetector({ scale: 'n', backbone: name, nc: 6 });
      const names = [...d.namedTensors()].map(([n]) => n);
      expect(names[0]).toMatch(/^model\.0\./);
      expect(names).toContain('model.5.cv1.conv.weight'); // SPPF right after the backbone's five indices
      expect(names).toContain('model.19.dfl.conv.weight'); // Detect at 19, as in the seed's yaml
    }
  });

  it('every backbone gives stride 4/8/16/32 maps with the channels it reports, at several input sizes', () => {
    for (const name of backboneNames()) {
      const bb = nameModules(backboneEntry(name).build({ width: 0.25 }));
      for (const size of [64, 96]) {
        const g = new Graph();
        const feats = bb.features(g.input('x', [1, 3, size, size]));
        expect(feats.map((f) => f.shape)).toEqual(
          bb.featureInfo.map((i) => [1, i.channels, size / i.stride, size / i.stride]),
        );
      }
    }
  });

  it('torchvision and official backbones match their reference parameter counts (classifier heads excluded)', () => {
    // torchvision totals minus conv5/fc (ShuffleNetV2) or the classifier (MobileNetV3): the extractor is identical.
    const expected: Record<string, number> = {
      shufflenetv2_x0_5: 1366792 - (192 * 1024 + 2 * 1024) - (1024 * 1000 + 1000),
      shufflenetv2_x1_0: 2278604 - (464 * 1024 + 2 * 1024) - (1024 * 1000 + 1000),
      shufflenetv2_x1_5: 3503624 - (704 * 1024 + 2 * 1024) - (1024 * 1000 + 1000),
      shufflenetv2_x2_0: 7393996 - (976 * 2048 + 2 * 2048) - (2048 * 1000 + 1000),
      mobilenetv3_large: 5483032 - (960 * 1280 + 1280) - (1280 * 1000 + 1000),
      mobilenetv3_small: 2542856 - (576 * 1024 + 1024) - (1024 * 1000 + 1000),
    };
    for (const [name, n] of Object.entries(expected))
      expect(countParameters(backboneEntry(name).build({})).total, name).toBe(n);
    // GhostNet 1.0x: 5.18M with conv_head (960 -> 1280) and the classifier.
    const ghost =
      countParameters(backboneEntry('ghostnet_1_0').build({})).total + (960 * 1280 + 1280) + (1280 * 1000 + 1000);
    expect(Math.round(ghost / 1e4) / 100).toBe(5.18);
  });

  it('StarNet follows the reference: width scales channels with make_divisible, depth is unused', () => {
    const s1 = backboneEntry('starnet_s1').build({ width: 0.25 });
    expect(s1.featureInfo.map((f) => f.channels)).toEqual([8, 16, 32, 64]);
    const full = backboneEntry('starnet_s1').build({ width: 1 });
    expect(full.featureInfo.map((f) => f.channels)).toEqual([24, 48, 96, 192]);
    // The paper's StarNet-S1 is 2.9M parameters with its 1000-class head (BN 192 + Linear 192x1000).
    expect(countParameters(full).total + 2 * 192 + 192 * 1000 + 1000).toBeGreaterThan(2.85e6);
    expect(countParameters(full).total + 2 * 192 + 192 * 1000 + 1000).toBeLessThan(2.95e6);
    expect(countParameters(backboneEntry('starnet_s1').build({ width: 1, depth: 0.33 })).total).toBe(
      countParameters(full).total,
    );
  });

  it('decodes to the Ultralytics layout [B, 4 + nc, N] and the export matches the reference evaluation', async () => {
    seedInit(7);
    const d = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: 3 });
    const size = 64;
    const g = new Graph();
    const x = g.input('images', [1, 3, size, size]);
    d.eval();
    const y = d.forward(x);
    const anchors = (size / 8) ** 2 + (size / 16) ** 2 + (size / 32) ** 2;
    expect(y.shape).toEqual([1, 4 + 3, anchors]);

    const rng = new Rng('zoo-input');
    const input = nd(
      [1, 3, size, size],
      Array.from({ length: 3 * size * size }, () => rng.float()),
    );
    const feeds: Record<string, ReturnType<typeof nd>> = { images: input };
    for (const [n, p] of d.namedTensors()) feeds[n] = nd(p.shape, p.data);
    const [ref] = evaluate([y], feeds);

    const { bytes, folded } = inferenceModel(d, { input: { name: 'images', shape: [1, 3, size, size] } });
    expect(folded).toBeGreaterThan(20);
    const session = await ort.InferenceSession.create(bytes);
    const batch = new Float32Array(2 * 3 * size * size);
    batch.set(Float32Array.from(input.data), 0);
    batch.set(Float32Array.from(input.data), 3 * size * size);
    const out = (await session.run({ images: new ort.Tensor('float32', batch, [2, 3, size, size]) })).output!;
    expect(out.dims).toEqual([2, 7, anchors]);
    const o = out.data as Float32Array;
    let worst = 0;
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < ref!.data.length; i++)
        worst = Math.max(
          worst,
          Math.abs(o[b * ref!.data.length + i]! - ref!.data[i]!) / Math.max(1, Math.abs(ref!.data[i]!)),
        );
    expect(worst).toBeLessThan(1e-4);
    // Boxes are in input pixels around their anchors; scores are probabilities.
    for (let i = 0; i < anchors; i++) {
      expect(o[2 * anchors + i]).toBeGreaterThan(0); // width
      expect(o[4 * anchors + i]).toBeGreaterThanOrEqual(0);
      expect(o[4 * anchors + i]).toBeLessThanOrEqual(1);
    }
  });
});
