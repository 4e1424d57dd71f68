import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { captureTraining, loadCheckpoint, restoreTraining, saveCheckpoint } from '../../src-main/engine/checkpoint.js';
import * as F from '../../src-main/engine/functional.js';
import { Graph, type Tensor } from '../../src-main/engine/ir.js';
import {
  BatchNorm2d,
  Conv2d,
  Lambda,
  Linear,
  Module,
  nameModules,
  Parameter,
  ReLU,
  seedInit,
  Sequential,
  SiLU,
} from '../../src-main/engine/nn.js';
import { writeOnnx } from '../../src-main/engine/onnx-writer.js';
import { AdamW, clipGradNorm, EMA, paramGroups, SGD } from '../../src-main/engine/optim.js';
import { epochFactor, scheduleAt, type ScheduleOptions } from '../../src-main/engine/schedule.js';
import { TrainStep, type BuildLoss } from '../../src-main/engine/train-step.js';
import { chooseDevice, Runner } from '../../src-main/runtime/session.js';
import { Rng } from '../../src-main/util/random.js';
import { tempDir } from '../helpers.js';

const N = 8;
const CLASSES = 4;

class TinyNet extends Module {
  readonly body: Sequential;
  readonly head: Linear;
  constructor() {
    super();
    this.body = this.add(
      'body',
      new Sequential(
        new Conv2d(3, 8, 3, { padding: 1, bias: false }),
        new BatchNorm2d(8),
        ReLU(),
        new Conv2d(8, 8, 3, { stride: 2, padding: 1, bias: false }),
        new BatchNorm2d(8),
        SiLU(),
        new Lambda('pool', (x) => F.flatten(F.globalAvgPool(x))),
      ),
    );
    this.head = this.add('head', new Linear(8, CLASSES));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x));
  }
}

const crossEntropy: BuildLoss = (g, model, batch) => {
  const x = g.input('images', [batch, 3, 8, 8]);
  const labels = g.input('labels', [batch, 1], 'int64');
  const logp = F.logSoftmax(model.forward(x), 1);
  const loss = F.neg(F.mean(F.gatherElements(logp, labels, 1)));
  return { loss, terms: { ce: loss } };
};

function data(seed: string) {
  const rng = new Rng('tiny-data', seed);
  const images = Float32Array.from({ length: N * 3 * 8 * 8 }, () => rng.normal());
  const labels = BigInt64Array.from({ length: N }, (_, i) => BigInt(i % CLASSES));
  return {
    images: { dtype: 'float32' as const, shape: [N, 3, 8, 8], data: images },
    labels: { dtype: 'int64' as const, shape: [N, 1], data: labels },
  };
}

const runners: Runner[] = [];
const newRunner = () => {
  const r = new Runner({ device: 'cpu', intraOpThreads: 1 });
  runners.push(r);
  return r;
};
afterAll(async () => Promise.all(runners.map((r) => r.dispose())));

describe('training engine', () => {
  it('overfits a tiny CNN to near-zero loss and the eval graph predicts the labels', async () => {
    seedInit(1);
    const model = new TinyNet();
    const step = new TrainStep(newRunner(), model, crossEntropy);
    const opt = new AdamW(paramGroups(model, { lr: 0.02, weightDecay: 0, momentum: 0.9 }));
    const feeds = data('a');
    let first = 0;
    let last = 0;
    for (let i = 0; i < 150; i++) {
      const r = await step.run(N, feeds);
      if (i === 0) first = r.loss;
      last = r.loss;
      opt.update(r.grads);
    }
    expect(first).toBeGreaterThan(1);
    expect(last).toBeLessThan(0.05);

    // Eval mode (running BatchNorm statistics, weights baked in): the predictions are the labels.
    model.eval();
    const g = new Graph();
    const logits = model.forward(g.input('images', [N, 3, 8, 8]));
    const init = new Map([...model.namedTensors()].map(([n, p]) => [n, p.data]));
    const session = await ort.InferenceSession.create(writeOnnx({ graph: g, outputs: { logits }, initializers: init }));
    const out = (await session.run({ images: new ort.Tensor('float32', feeds.images.data, feeds.images.shape) }))
      .logits!;
    const l = out.data as Float32Array;
    const pred = Array.from({ length: N }, (_, i) => {
      const row = Array.from(l.subarray(i * CLASSES, (i + 1) * CLASSES));
      return row.indexOf(Math.max(...row));
    });
    expect(pred).toEqual(Array.from({ length: N }, (_, i) => i % CLASSES));
  });

  it('resumes from a checkpoint and reproduces the uninterrupted run exactly', async () => {
    const tmp = tempDir();
    try {
      const run = async (steps: number, resumeFrom?: string) => {
        seedInit(resumeFrom ? 999 : 2); // a resumed run starts from different weights: the checkpoint must win
        const model = new TinyNet();
        const step = new TrainStep(newRunner(), model, crossEntropy);
        const opt = new SGD(paramGroups(model, { lr: 0.05, weightDecay: 5e-4, momentum: 0.9 }), true);
        const ema = new EMA(model, 0.99, 5);
        let start = 0;
        if (resumeFrom)
          start = restoreTraining(loadCheckpoint(resumeFrom), { model, optimizer: opt, ema }).step as number;
        const losses: number[] = [];
        for (let i = start; i < start + steps; i++) {
          const r = await step.run(N, data(`batch${i}`));
          clipGradNorm(r.grads, 10);
          opt.update(r.grads);
          ema.update();
          losses.push(r.loss);
        }
        return { losses, model, opt, ema, next: start + steps };
      };
      const full = await run(6);
      const part = await run(3);
      const file = `${tmp.dir}/ck.safetensors`;
      saveCheckpoint(
        file,
        captureTraining({ model: part.model, optimizer: part.opt, ema: part.ema, extra: { step: part.next } }),
      );
      const rest = await run(3, file);
      expect([...part.losses, ...rest.losses]).toEqual(full.losses);
      expect(rest.ema.shadow.get('head.weight')).toEqual(full.ema.shadow.get('head.weight'));
    } finally {
      tmp.cleanup();
    }
  });

  it('refuses malformed checkpoints and mismatched models with clear errors', () => {
    const tmp = tempDir();
    try {
      seedInit(3);
      const model = nameModules(new TinyNet());
      const file = `${tmp.dir}/ok.safetensors`;
      saveCheckpoint(file, captureTraining({ model }));
      expect(loadCheckpoint(file).tensors.size).toBe([...model.namedTensors()].length);

      const bytes = fs.readFileSync(file);
      fs.writeFileSync(`${tmp.dir}/short.safetensors`, bytes.subarray(0, bytes.length - 10));
      expect(() => loadCheckpoint(`${tmp.dir}/short.safetensors`)).toThrow(
        /short\.safetensors: not a valid checkpoint: tensor .* \(truncated\?\)/,
      );
      fs.writeFileSync(`${tmp.dir}/tiny.safetensors`, Buffer.from([1, 2, 3]));
      expect(() => loadCheckpoint(`${tmp.dir}/tiny.safetensors`)).toThrow(/shorter than the 8-byte header/);
      const badJson = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{nop')]);
      fs.writeFileSync(`${tmp.dir}/json.safetensors`, badJson);
      expect(() => loadCheckpoint(`${tmp.dir}/json.safetensors`)).toThrow(/header is not JSON/);
      expect(() => loadCheckpoint(`${tmp.dir}/missing.safetensors`)).toThrow(/cannot read checkpoint \(ENOENT\)/);

      class Wider extends TinyNet {
        constructor() {
          super();
          this.add('extra', new Linear(2, 2));
        }
      }
      const other = nameModules(new Wider());
      const before = Float32Array.from(other.head.weight.data);
      expect(() => restoreTraining(loadCheckpoint(file), { model: other })).toThrow(/missing model\/extra\.weight/);
      expect(other.head.weight.data).toEqual(before); // nothing half-restored
      const ck = loadCheckpoint(file);
      ck.tensors.set('model/head.weight', { shape: [2, 2], data: new Float32Array(4) });
      expect(() => restoreTraining(ck, { model })).toThrow(
        /model\/head\.weight: checkpoint \[2, 2\] vs model \[4, 8\]/,
      );
    } finally {
      tmp.cleanup();
    }
  });
});

describe('optimizers and schedules', () => {
  const param = (values: number[]) => {
    const p = new Parameter([values.length], Float32Array.from(values));
    p.name = 'w';
    return p;
  };

  it('SGD with Nesterov momentum and weight decay follows PyTorch', () => {
    const p = param([1, -2]);
    const opt = new SGD([{ name: 'weights', params: [p], lr: 0.1, weightDecay: 0.01, momentum: 0.9 }], true);
    const grad = Float32Array.from([0.5, 0.25]);
    opt.update(new Map([[p, grad]]));
    // d = g + wd*p = [0.51, 0.23]; buf = d; step = d + 0.9*buf = 1.9*d
    expect(p.data[0]).toBeCloseTo(1 - 0.1 * 1.9 * 0.51, 6);
    const w1 = p.data[0]!;
    const buf1 = 0.51;
    opt.update(new Map([[p, grad]]));
    const d2 = 0.5 + 0.01 * w1;
    const buf2 = 0.9 * buf1 + d2;
    expect(p.data[0]).toBeCloseTo(w1 - 0.1 * (d2 + 0.9 * buf2), 6);
  });

  it('AdamW decouples weight decay and corrects bias', () => {
    const p = param([1]);
    const opt = new AdamW([{ name: 'weights', params: [p], lr: 0.01, weightDecay: 0.1, momentum: 0.9 }]);
    opt.update(new Map([[p, Float32Array.from([3])]]));
    // first step: m_hat = g, v_hat = g^2 => update = lr * g/|g| (eps negligible)
    expect(p.data[0]).toBeCloseTo(1 * (1 - 0.01 * 0.1) - 0.01, 6);
  });

  it('clips the global gradient norm', () => {
    const a = param([0]);
    const b = param([0]);
    const grads = new Map([
      [a, Float32Array.from([3])],
      [b, Float32Array.from([4])],
    ]);
    expect(clipGradNorm(grads, 1)).toBeCloseTo(5, 6);
    expect(grads.get(a)![0]).toBeCloseTo(0.6, 5);
    expect(grads.get(b)![0]).toBeCloseTo(0.8, 5);
  });

  it('computes cosine/linear factors and Ultralytics-style warmup', () => {
    const o: ScheduleOptions = {
      kind: 'cosine',
      lr0: 0.01,
      lrf: 0.01,
      epochs: 100,
      warmupIters: 100,
      warmupBiasLr: 0.1,
      warmupMomentum: 0.8,
      momentum: 0.937,
    };
    expect(epochFactor(o, 0)).toBeCloseTo(1, 9);
    expect(epochFactor(o, 100)).toBeCloseTo(0.01, 9);
    expect(epochFactor(o, 50)).toBeCloseTo(0.505, 9);
    expect(epochFactor({ ...o, kind: 'linear' }, 50)).toBeCloseTo(0.505, 9);
    const w0 = scheduleAt(o, 0, 0, ['weights', 'bias']);
    expect(w0.lr).toEqual({ weights: 0, bias: 0.1 });
    expect(w0.momentum).toBeCloseTo(0.8, 9);
    const w50 = scheduleAt(o, 50, 0, ['weights', 'bias']);
    expect(w50.lr.weights).toBeCloseTo(0.005, 9);
    expect(w50.lr.bias).toBeCloseTo(0.055, 9);
    expect(scheduleAt(o, 100, 0, ['weights']).lr.weights).toBeCloseTo(0.01, 9);
  });

  it('reports the execution provider it falls back from', () => {
    const r = chooseDevice('cuda', ['cpu']);
    expect(r.used).toBe('cpu');
    expect(r.fallbackReason).toMatch(/cuda is not available .* using cpu/);
    expect(chooseDevice('auto', ['cpu']).used).toBe('cpu');
    expect(chooseDevice('cuda', ['cpu', 'cuda']).used).toBe('cuda');
    expect(new Runner({ device: 'cpu' }).report).toMatchObject({ requested: 'cpu', used: 'cpu' });
  });
});

describe('inference export', () => {
  it('folds BatchNorm into convs, bakes weights, and runs any batch size like the eval graph', async () => {
    seedInit(4);
    const model = new TinyNet();
    const step = new TrainStep(newRunner(), model, crossEntropy);
    const opt = new SGD(paramGroups(model, { lr: 0.05, weightDecay: 0, momentum: 0.9 }));
    for (let i = 0; i < 5; i++) opt.update((await step.run(N, data(`e${i}`))).grads); // non-trivial BN statistics
    const { inferenceModel } = await import('../../src-main/engine/export.js');
    const { onnx } = await import('onnx-proto');
    const folded = inferenceModel(model, { input: { name: 'images', shape: [N, 3, 8, 8] } });
    const plain = inferenceModel(model, { input: { name: 'images', shape: [N, 3, 8, 8] }, fold: false });
    expect(folded.folded).toBe(2);
    const ops = (b: Uint8Array) => onnx.ModelProto.decode(b).graph!.node!.map((n) => n.opType);
    expect(ops(folded.bytes)).not.toContain('BatchNormalization');
    expect(ops(plain.bytes)).toContain('BatchNormalization');
    expect(onnx.ModelProto.decode(folded.bytes).graph!.input!.map((i) => i.name)).toEqual(['images']);

    const a = await ort.InferenceSession.create(folded.bytes);
    const b = await ort.InferenceSession.create(plain.bytes);
    for (const batch of [1, 3]) {
      const x = new ort.Tensor('float32', data('x').images.data.subarray(0, batch * 192), [batch, 3, 8, 8]);
      const ya = (await a.run({ images: x })).output!;
      const yb = (await b.run({ images: x })).output!;
      expect(ya.dims).toEqual([batch, CLASSES]);
      const da = ya.data as Float32Array;
      const db = yb.data as Float32Array;
      for (let i = 0; i < da.length; i++) expect(Math.abs(da[i]! - db[i]!)).toBeLessThan(1e-4);
    }
  });
});
