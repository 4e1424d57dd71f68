import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { greedyNms } from '../../src-main/inference/boxes.js';
import { seedInit } from '../../src-main/engine/nn.js';
import { exportDetector } from '../../src-main/export/detector.js';
import { parseNames } from '../../src-main/export/metadata.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Rng } from '../../src-main/util/random.js';

const { onnx } = onnxProto;
const SIZE = 96;
const NAMES = ['circle', "square's", 'star'];

function input(batch: number): ort.Tensor {
  const rng = new Rng('export-input');
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: batch * 3 * SIZE * SIZE }, () => rng.float()),
    [batch, 3, SIZE, SIZE],
  );
}

/** Class-aware NMS on the raw layout, in plain TypeScript: the reference for the in-graph NMS. */
function decodeRaw(
  raw: Float32Array,
  batch: number,
  nc: number,
  n: number,
  o: { conf: number; iou: number; maxDet: number },
) {
  const out: number[][][] = [];
  for (let b = 0; b < batch; b++) {
    const base = b * (4 + nc) * n;
    const boxes = new Float64Array(4 * n);
    const shifted = new Float64Array(4 * n);
    const score = new Float64Array(n);
    const cls = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const [cx, cy, w, h] = [0, 1, 2, 3].map((k) => raw[base + k * n + i]!) as [number, number, number, number];
      for (let c = 0; c < nc; c++) {
        const s = raw[base + (4 + c) * n + i]!;
        if (s > score[i]!) [score[i], cls[i]] = [s, c];
      }
      const xyxy = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
      xyxy.forEach((v, k) => ((boxes[4 * i + k] = v), (shifted[4 * i + k] = v + cls[i]! * 7680)));
    }
    const kept = greedyNms(shifted, 0, score, 0, n, {
      maxOutput: o.maxDet,
      iouThreshold: o.iou,
      scoreThreshold: o.conf,
    });
    out.push(kept.map((i) => [...boxes.subarray(4 * i, 4 * i + 4), score[i]!, cls[i]!]));
  }
  return out;
}

describe('detector export', () => {
  it('raw and nms styles decode to the same boxes, at any batch size, with Ultralytics metadata', async () => {
    seedInit(11);
    const d = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: 3 });
    // Untrained class logits start near log(5/nc/6400): spread them so some boxes pass the threshold.
    const rng = new Rng('export-bias');
    for (const [name, p] of d.namedTensors())
      if (/cv3\.\d\.2\.bias$/.test(name)) p.data = p.data.map(() => rng.range(-2, 1));
    const nmsOpts = { conf: 0.05, iou: 0.5, maxDet: 40 };
    const raw = exportDetector(d, { imgsz: SIZE, style: 'raw', names: NAMES });
    const nms = exportDetector(d, { imgsz: SIZE, style: 'nms', names: NAMES, nms: nmsOpts });

    const meta = Object.fromEntries(onnx.ModelProto.decode(raw.bytes).metadataProps!.map((p) => [p.key!, p.value!]));
    expect(meta.task).toBe('detect');
    expect(meta.imgsz).toBe(`[${SIZE}, ${SIZE}]`);
    expect(parseNames(meta.names!)).toEqual(NAMES);
    expect(JSON.parse(meta.starling_config!)).toMatchObject({ backbone: 'starnet_s050', head: 'yolo', nc: 3 });
    const ops = onnx.ModelProto.decode(nms.bytes).graph!.node!.map((n) => n.opType);
    expect(ops).toContain('NonMaxSuppression');
    expect(ops).not.toContain('BatchNormalization');

    const batch = 2;
    const x = input(batch);
    const rawOut = (await (await ort.InferenceSession.create(raw.bytes)).run({ images: x })).output0!;
    const n = (SIZE / 8) ** 2 + (SIZE / 16) ** 2 + (SIZE / 32) ** 2;
    expect(rawOut.dims).toEqual([batch, 7, n]);
    const nmsOut = (await (await ort.InferenceSession.create(nms.bytes)).run({ images: x })).output0!;
    expect(nmsOut.dims).toEqual([batch, 40, 6]);

    const expected = decodeRaw(rawOut.data as Float32Array, batch, 3, n, nmsOpts);
    expect(expected[0]!.length).toBeGreaterThan(0);
    const got = nmsOut.data as Float32Array;
    for (let b = 0; b < batch; b++) {
      const rows = expected[b]!.sort((p, q) => q[4]! - p[4]!);
      rows.forEach((r, k) => {
        const g = Array.from(got.subarray((b * 40 + k) * 6, (b * 40 + k) * 6 + 6));
        r.forEach((v, j) => expect(Math.abs(g[j]! - v)).toBeLessThan(1e-3));
      });
      for (let k = rows.length; k < 40; k++)
        expect(Array.from(got.subarray((b * 40 + k) * 6, (b * 40 + k) * 6 + 6))).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it('exports a bare backbone (head none) as its feature maps', async () => {
    const d = buildDetector({ scale: 'n', backbone: 'mobilenetv3_small', head: 'none', nc: 1 });
    expect(() => exportDetector(d, { imgsz: 64, style: 'raw' })).toThrow(/a none head exports as style features/);
    const e = exportDetector(d, { imgsz: 64 });
    expect(e.style).toBe('features');
    expect(e.outputs).toEqual(['feat0', 'feat1', 'feat2', 'feat3']);
    const out = await (
      await ort.InferenceSession.create(e.bytes)
    ).run({
      images: input(1).data.length
        ? new ort.Tensor('float32', new Float32Array(3 * 64 * 64), [1, 3, 64, 64])
        : input(1),
    });
    expect(out.feat3!.dims).toEqual([1, 576, 2, 2]);
  });
});

describe('weights', () => {
  it('loads a safetensors state dict by name and reports missing, unexpected and re-initialised tensors', async () => {
    const { saveCheckpoint, captureTraining } = await import('../../src-main/engine/checkpoint.js');
    const { loadWeights } = await import('../../src-main/models/weights.js');
    const { tempDir } = await import('../helpers.js');
    const tmp = tempDir();
    try {
      seedInit(21);
      const src = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: 3 });
      const tensors = new Map([...src.namedTensors()].map(([n, p]) => [n, { shape: [...p.shape], data: p.data }]));
      tensors.delete('model.19.dfl.conv.weight');
      tensors.set('extra.weight', { shape: [2], data: new Float32Array(2) });
      saveCheckpoint(`${tmp.dir}/w.safetensors`, { tensors, metadata: {} });

      seedInit(22);
      const dst = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: 5 }); // a different class count
      const r = loadWeights(dst, `${tmp.dir}/w.safetensors`);
      expect(r.missing).toEqual(['model.19.dfl.conv.weight']);
      expect(r.unexpected).toEqual(['extra.weight']);
      // The class layers of a 3-class file in a 5-class model start fresh; nothing else mismatches.
      expect(r.shapeMismatch).toEqual([]);
      expect(r.reinitialised).toEqual([
        'model.19.cv3.0.2.weight',
        'model.19.cv3.0.2.bias',
        'model.19.cv3.1.2.weight',
        'model.19.cv3.1.2.bias',
        'model.19.cv3.2.2.weight',
        'model.19.cv3.2.2.bias',
      ]);
      const name = 'model.0.stages.2.1.f1.conv.weight';
      const get = (m: typeof src) => [...m.namedTensors()].find(([n]) => n === name)![1].data;
      expect(get(dst)).toEqual(get(src));

      // A Starling training checkpoint: its EMA weights win.
      const ema = new Map([...src.namedTensors()].map(([n, p]) => [n, p.data.map(() => 0.5)]));
      const ck = captureTraining({ model: src });
      for (const [n, d] of ema)
        ck.tensors.set(`ema/${n}`, {
          shape: [...src.namedTensors()].find(([k]) => k === n)![1].shape.slice(),
          data: d,
        });
      saveCheckpoint(`${tmp.dir}/ck.safetensors`, ck);
      loadWeights(dst, `${tmp.dir}/ck.safetensors`);
      expect(get(dst)[0]).toBe(0.5);

      expect(() => loadWeights(dst, `${tmp.dir}/w.pt`)).toThrow(/w\.pt: cannot read|ENOENT|no such file/);
      saveCheckpoint(`${tmp.dir}/other.safetensors`, {
        tensors: new Map([['x', { shape: [1], data: new Float32Array(1) }]]),
        metadata: {},
      });
      expect(() => loadWeights(dst, `${tmp.dir}/other.safetensors`)).toThrow(/no tensor matches the model/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('centernet export', () => {
  it('folds centerX peak extraction into the graph: only 3x3 local maxima survive', async () => {
    seedInit(31);
    const d = buildDetector({ scale: 'n', backbone: 'starnet_s050', head: 'centernet', nc: 2 });
    expect(d.outputStrides).toEqual([4]);
    const folded = exportDetector(d, { imgsz: 64, style: 'centernet' });
    const raw = exportDetector(d, { imgsz: 64, style: 'raw' });
    expect(folded.outputs).toEqual(['cls', 'reg', 'wh']);
    expect(() => exportDetector(d, { imgsz: 64, style: 'nms' })).toThrow(/exports as style centernet/);
    const x = input(1);
    const xs = new ort.Tensor('float32', (x.data as Float32Array).subarray(0, 3 * 64 * 64), [1, 3, 64, 64]);
    const a = await (await ort.InferenceSession.create(folded.bytes)).run({ images: xs });
    const b = await (await ort.InferenceSession.create(raw.bytes)).run({ images: xs });
    expect(a.cls!.dims).toEqual([1, 2, 16, 16]);
    const heat = b.cls!.data as Float32Array;
    const peak = a.cls!.data as Float32Array;
    let maxima = 0;
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 16; y++)
        for (let xx = 0; xx < 16; xx++) {
          const i = (c * 16 + y) * 16 + xx;
          let isMax = true;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const [yy, x2] = [y + dy, xx + dx];
              if (yy >= 0 && yy < 16 && x2 >= 0 && x2 < 16 && heat[(c * 16 + yy) * 16 + x2]! > heat[i]!) isMax = false;
            }
          maxima += +isMax;
          expect(peak[i]!).toBeCloseTo(isMax ? heat[i]! : 0, 5);
        }
    expect(maxima).toBeGreaterThan(0);
    expect(maxima).toBeLessThan(2 * 16 * 16);
    expect(Array.from(a.wh!.data as Float32Array)).toEqual(Array.from(b.wh!.data as Float32Array));
  });
});
