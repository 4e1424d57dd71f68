import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src-main/engine/checkpoint.js';
import { seedInit } from '../../src-main/engine/nn.js';
import type { Detector } from '../../src-main/models/detector.js';
import type { AnchorDetect } from '../../src-main/models/heads/yolov5-detect.js';
import { applyWeights, planWeights, readWeightSource } from '../../src-main/models/weights.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import type { EvalImage } from '../../src-main/eval/ground-truth.js';
import type { Source } from '../../src-main/inference/letterbox.js';
import { resolveRunSettings, type RunSettingsInput } from '../../src-main/settings/run-settings.js';
import { TimeBudgetHook } from '../../src-main/train/hooks/time-budget.js';
import { Trainer, type StepInfo } from '../../src-main/train/trainer.js';
import { generateSample } from '../../src-main/sample/generate.js';
import { tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
let train: Source[];
let val: EvalImage[];

beforeAll(async () => {
  tmp = tempDir();
  const s = await generateSample(`${tmp.dir}/data`, { seed: 9, counts: { train: 8, pool: 0, val: 3, test: 0 } });
  const toSource = (im: (typeof s.dataset.images)[number]): Source => ({
    file: im.file,
    boxes: im.boxes.map((b) => ({ cls: b.classIndex, x: b.x, y: b.y, w: b.w, h: b.h })),
  });
  train = s.dataset.images.filter((im) => im.split === 'train').map(toSource);
  val = s.dataset.images
    .filter((im) => im.split === 'val')
    .map((im, i) => ({
      id: i + 1,
      path: im.file,
      file: im.file,
      width: im.width!,
      height: im.height!,
      truths: im.boxes.map((b) => ({ classId: b.classIndex, classIndex: b.classIndex, box: [b.x, b.y, b.w, b.h] })),
    }));
}, 60_000);
afterAll(() => tmp.cleanup());

const options = (outDir: string, epochs: number, more: RunSettingsInput = {}) => ({
  settings: resolveRunSettings({
    ...more,
    model: { backbone: 'starnet_s050', head: 'yolo', nc: 6, ...more.model },
    data: { imgsz: 64, batch: 4 },
    budget: { epochs, ...more.budget },
    seed: 1,
    device: 'cpu',
  }),
  train,
  val,
  threads: 1,
  outDir,
});

describe('trainer', () => {
  it('trains, validates with the COCO evaluator, writes checkpoints and resumes exactly', async () => {
    const steps: StepInfo[] = [];
    const full = await new Trainer(options(`${tmp.dir}/full`, 2)).fit({ afterStep: (s) => void steps.push(s) });
    expect(full.epochs).toBe(2);
    expect(steps).toHaveLength(4); // 8 images, batch 4, 2 epochs
    expect(steps.every((s) => Number.isFinite(s.loss) && s.imagesPerSecond > 0)).toBe(true);
    // The headline loss is on its terms' scale (the graph's is multiplied by the batch, as Ultralytics' is).
    for (const s of steps) {
      const sum = Object.values(s.terms).reduce((a, b) => a + b, 0);
      expect(s.loss).toBeCloseTo(sum, 3);
    }
    expect(steps[0]!.lr).toBeLessThan(steps[3]!.lr); // warmup
    for (const h of full.history) {
      expect(h.metrics['mAP50-95']).toBeGreaterThanOrEqual(0);
      expect(h.metrics.fitness).toBeGreaterThanOrEqual(0);
    }
    expect(fs.existsSync(full.last) && fs.existsSync(full.best)).toBe(true);

    // One epoch, then resume to two: the same weights as the uninterrupted run, bit for bit.
    const dir = `${tmp.dir}/resumed`;
    const first = await new Trainer({ ...options(dir, 2), maxSteps: 2 }).fit();
    expect(first.epochs).toBeGreaterThanOrEqual(1);
    const resumed = await new Trainer({ ...options(dir, 2), resume: true }).fit();
    expect(resumed.epochs).toBe(2);
    const a = loadCheckpoint(full.last).tensors;
    const b = loadCheckpoint(resumed.last).tensors;
    for (const name of [
      'model/model.0.stem.0.conv.weight',
      'model/model.19.cv2.0.2.bias',
      'ema/model.9.cv1.conv.weight',
    ]) {
      expect(Array.from(b.get(name)!.data), name).toEqual(Array.from(a.get(name)!.data));
    }
  }, 300_000);

  it('a fine-tuned run with frozen layers keeps them as loaded and resumes bit for bit', async () => {
    // The start: weights of another seed's model, as a plain safetensors state dict.
    seedInit(77);
    const donor = buildDetector({ backbone: 'starnet_s050', head: 'yolo', nc: 6 });
    const file = `${tmp.dir}/donor.safetensors`;
    saveCheckpoint(file, {
      tensors: new Map([...donor.namedTensors()].map(([n, p]) => [n, { shape: [...p.shape], data: p.data }])),
      metadata: {},
    });
    const source = readWeightSource(file);
    const init = (m: Detector) => applyWeights(m, source, planWeights(m, source));
    const tuned = (dir: string) => ({ ...options(dir, 2, { weights: { freeze: 3 } }), init });

    const full = await new Trainer(tuned(`${tmp.dir}/ft-full`)).fit();
    const dir = `${tmp.dir}/ft-resumed`;
    await new Trainer({ ...tuned(dir), maxSteps: 2 }).fit();
    const resumed = await new Trainer({ ...tuned(dir), resume: true }).fit();
    const a = loadCheckpoint(full.last).tensors;
    const b = loadCheckpoint(resumed.last).tensors;
    for (const [name, t] of a) expect(Array.from(b.get(name)!.data), name).toEqual(Array.from(t.data));
    // Layers 0-2 were frozen: exactly the donor's; layer 3 on trained.
    const given = new Map(donor.namedTensors());
    const eq = (name: string) =>
      Array.from(a.get(`model/${name}`)!.data).join() === Array.from(given.get(name)!.data).join();
    expect(eq('model.0.stem.0.conv.weight')).toBe(true);
    expect(eq('model.19.cv2.0.0.conv.weight')).toBe(false);
  }, 300_000);

  it("takes fixed gains from loss.gains over the head's, and refuses a term the head has not", async () => {
    const first = async (dir: string, more: RunSettingsInput) => {
      const steps: StepInfo[] = [];
      await new Trainer({ ...options(`${tmp.dir}/${dir}`, 1, more), maxSteps: 1 }).fit({
        afterStep: (s) => void steps.push(s),
      });
      return steps[0]!.terms;
    };
    const base = await first('gains-default', {});
    const box = await first('gains-box', { loss: { gains: { box: 15, dfl: 0 } } });
    // The same first step (same seed, weights and batch): box at twice Ultralytics' 7.5, dfl off, cls as it was.
    expect(box.box! / base.box!).toBeCloseTo(2, 5);
    expect(box.dfl).toBe(0);
    expect(box.cls).toBeCloseTo(base.cls!, 6);
    expect(() => new Trainer(options(`${tmp.dir}/gains-bad`, 1, { loss: { gains: { hm: 1 } } }))).toThrow(
      'loss.gains.hm: the yolo head has no loss term hm (its terms: box, cls, dfl)',
    );
  });

  it('trains and validates the P2-P5 variant: the loss assigns over four levels', async () => {
    const steps: StepInfo[] = [];
    const r = await new Trainer(options(`${tmp.dir}/p2`, 1, { model: { model: 'yolo11-p2' } })).fit({
      afterStep: (s) => void steps.push(s),
    });
    expect(steps).toHaveLength(2);
    expect(steps.every((s) => Number.isFinite(s.loss) && s.terms.box! > 0 && s.terms.dfl! > 0)).toBe(true);
    expect(r.history[0]!.metrics['mAP50-95']).toBeGreaterThanOrEqual(0);
    expect(loadCheckpoint(r.last).tensors.has('model/model.25.cv2.3.2.bias')).toBe(true); // a fourth level's box conv
  });

  it('stops when asked and leaves a resumable run', async () => {
    let n = 0;
    const r = await new Trainer(options(`${tmp.dir}/cancel`, 3)).fit({ shouldStop: () => ++n >= 3 });
    expect(r.cancelled).toBe(true);
    const again = await new Trainer({ ...options(`${tmp.dir}/cancel`, 3), resume: true }).fit();
    expect(again.epochs).toBe(3);
  }, 300_000);

  it('trains a CenterNet head with its own targets and validates it through the CenterNet decoder', async () => {
    const steps: StepInfo[] = [];
    const o = options(`${tmp.dir}/centernet`, 2, { model: { head: 'centernet' }, budget: { valEvery: 2 } });
    const r = await new Trainer(o).fit({
      afterStep: (s) => void steps.push(s),
    });
    expect(steps).toHaveLength(4);
    expect(Object.keys(steps[0]!.terms).sort()).toEqual(['hm', 'reg', 'wh']);
    expect(steps.every((s) => Number.isFinite(s.loss) && s.loss > 0)).toBe(true);
    // valEvery 2: epoch 1 has only training figures, the last epoch is validated.
    expect(r.history[0]!.metrics.mAP50).toBeUndefined();
    expect(r.history[0]!.metrics['loss.hm']).toBeGreaterThan(0);
    expect(r.history[1]!.metrics.mAP50).toBeGreaterThanOrEqual(0);
  }, 300_000);

  it('stops when a time budget is spent, mid-epoch, and validates that epoch as the last', async () => {
    const steps: StepInfo[] = [];
    const t = new Trainer(options(`${tmp.dir}/budget`, 50, { budget: { minutes: 0.001 / 60, valEvery: 5 } }));
    const r = await t.fit({ afterStep: (s) => void steps.push(s) });
    expect(t.stepsPerEpoch).toBe(2); // 8 images in batches of 4
    expect(steps).toHaveLength(1); // the budget is spent after the first step
    expect(r.epochs).toBe(1);
    expect(t.epochs).toBe(1);
    expect(r.history[0]!.metrics.mAP50).toBeGreaterThanOrEqual(0); // and that last epoch was validated
    expect(fs.existsSync(r.last)).toBe(true);
    expect(t.budgetSecondsLeft()).toBeLessThan(0); // what the ETA is capped by: spent
  }, 300_000);

  it('refits the epoch count to a time budget, rounding up so the budget is used', async () => {
    // The trainer state the hook reads and writes, as if the first epoch had taken 25 s of a 60 s budget.
    const state = { startedAt: Date.now() - 25_000, epoch: 0, startEpoch: 0, stop: null, epochs: 1 };
    const t = { ...state, setEpochs: (n: number) => void (t.epochs = n) };
    new TimeBudgetHook(60).afterEpoch(t as unknown as Trainer);
    expect(t.epochs).toBe(3); // 35 s left of 25 s epochs: a second and a third, which the clock cuts short
    expect(new TimeBudgetHook(60).secondsLeft(t as unknown as Trainer)).toBeCloseTo(35, 0);
  });
});

describe('trainer with a yolov5 head', () => {
  it('autoanchors before the first epoch, says so, and checkpoints the anchors it trained with', async () => {
    const lines: string[] = [];
    // Images of a known size whose boxes are 2 px thin: no default anchor can recall them.
    const thin = train.map((s, i) => ({
      ...s,
      width: 64,
      height: 64,
      boxes: s.boxes.map((b, j) => ({ ...b, ...((i + j) % 2 ? { w: 30, h: 1.8 } : { w: 1.8, h: 30 }) })),
    }));
    const o = options(`${tmp.dir}/v5`, 1, { model: { model: 'yolov5', backbone: 'yolov5', head: 'yolov5' } });
    const t = new Trainer({ ...o, train: thin, maxSteps: 1 });
    const before = (t.model.head as AnchorDetect).anchors;
    const r = await t.fit({ onLog: (l) => void lines.push(l) });
    const line = lines.find((l) => l.startsWith('autoanchor:'));
    expect(line).toMatch(/best possible recall 0\.\d+ on \d+ boxes; refitted to .* best possible recall 1\.0000/);
    const after = (t.model.head as AnchorDetect).anchors;
    expect(after).not.toEqual(before);
    // The checkpoint holds them (YOLOv5's `anchors` buffer, grid units).
    const ck = loadCheckpoint(r.last);
    for (const part of ['model', 'ema']) {
      const saved = [...ck.tensors.get(`${part}/model.24.anchors`)!.data];
      expect(
        saved.slice(0, 2).map((v) => v * 8),
        part,
      ).toEqual(after[0]![0]);
    }
    // `loss.autoanchor: false` (YOLOv5's --noautoanchor) trains with the anchors it has, and says nothing.
    const off = options(`${tmp.dir}/v5-off`, 1, {
      model: { model: 'yolov5', backbone: 'yolov5', head: 'yolov5' },
      loss: { autoanchor: false },
    });
    const kept = new Trainer({ ...off, train: thin, maxSteps: 1 });
    const quiet: string[] = [];
    await kept.fit({ onLog: (l) => void quiet.push(l) });
    expect(quiet.some((l) => l.startsWith('autoanchor:'))).toBe(false);
    expect((kept.model.head as AnchorDetect).anchors).toEqual(before);
  }, 120_000);
});
