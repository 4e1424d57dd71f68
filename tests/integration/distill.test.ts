/**
 * Distillation end to end on a small sample project: a foreign teacher (the Ultralytics fixture's ONNX export)
 * drives real training steps densely; a Starling teacher at another input size teaches at box level on images
 * nobody labeled; a cached teacher gives the loss a live one gives; a distillation run resumes bit for bit; the
 * run records its teachers (with sha256) and the leaderboard says who taught it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import type { Session } from '../../src-main/api/session.js';
import { loadCheckpoint } from '../../src-main/engine/checkpoint.js';
import { seedInit } from '../../src-main/engine/nn.js';
import { TrainStep } from '../../src-main/engine/train-step.js';
import { splitTruth } from '../../src-main/eval/ground-truth.js';
import { exportDetector } from '../../src-main/export/detector.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Runner, type Feed } from '../../src-main/runtime/session.js';
import { resolveRunSettings } from '../../src-main/settings/run-settings.js';
import { applyTeacherCache } from '../../src-main/train/distill/cache.js';
import { distillerFor } from '../../src-main/train/distill/index.js';
import { DistillHook, distillGraphSpec } from '../../src-main/train/distill/hook.js';
import { prepareTeachers } from '../../src-main/train/distill/teachers.js';
import { Loader, projectSources } from '../../src-main/train/loader.js';
import { objectiveFor } from '../../src-main/train/objectives/index.js';
import { Trainer } from '../../src-main/train/trainer.js';
import { Rng } from '../../src-main/util/random.js';
import type { tempDir } from '../helpers.js';
import { sampleSession } from '../sample-session.js';
import { ultralyticsFixture } from '../third-party.js';

const FIX = ultralyticsFixture();
let tmp: ReturnType<typeof tempDir>;
let session: Session;
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** An untrained Starling detector exported as a teacher, its class logits spread so it proposes boxes. */
function boxTeacher(file: string, imgsz: number, style: 'nms' | 'raw') {
  seedInit(17);
  const d = buildDetector({ scale: 'n', backbone: 'starnet_s050', nc: 6 });
  const r = new Rng('box-teacher');
  for (const [name, p] of d.namedTensors())
    if (/cv3\.\d\.2\.bias$/.test(name)) p.data = p.data.map(() => r.range(-1, 3));
  const names = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'];
  fs.writeFileSync(file, exportDetector(d, { imgsz, style, names }).bytes);
}

beforeAll(async () => {
  ({ tmp, session } = await sampleSession(8, { train: 8, pool: 6, val: 3, test: 0 }));
  boxTeacher(`${tmp.dir}/boxes96.onnx`, 96, 'nms');
  boxTeacher(`${tmp.dir}/boxes64.onnx`, 64, 'nms');
  await call(session, 'teachers.add', { path: `${tmp.dir}/boxes96.onnx`, name: 'boxes96' });
  await call(session, 'teachers.add', { path: `${tmp.dir}/boxes64.onnx`, name: 'boxes64' });
  if (FIX) await call(session, 'teachers.add', { path: `${FIX}/yolov8n-sample6.onnx`, name: 'ultralytics' });
}, 120_000);
afterAll(async () => {
  await session.dispose();
  tmp.cleanup();
});

async function train(req: Parameters<typeof call<'train.start'>>[2]) {
  const { jobId } = await call(session, 'train.start', req);
  const job = await session.jobs.wait(jobId);
  expect(job.error).toBeUndefined();
  return (await call(session, 'runs.list', {})).at(-1)!;
}

describe('distillation', () => {
  it.skipIf(!FIX)(
    'an Ultralytics export teaches densely in real training steps, and the run records it',
    async () => {
      const preview = await call(session, 'distill.inspect', { teachers: ['ultralytics'], model: {}, imgsz: 320 });
      expect(preview).toEqual([
        expect.objectContaining({ name: 'ultralytics', family: 'ultralytics-raw', mode: 'dense', imgsz: 320 }),
      ]);
      expect(preview[0]!.classes).toHaveLength(6);
      const run = await train({
        data: { imgsz: 320, batch: 4 },
        budget: { epochs: 1 },
        distill: { teachers: ['ultralytics'], data: 'all' },
        device: 'cpu',
        name: 'dense',
      });
      const epochs = await call(session, 'runs.epochs', { id: run.id });
      expect(epochs[0]!.metrics['loss.kd_cls']).toBeGreaterThan(0);
      expect(epochs[0]!.metrics['loss.kd_box']).toBeGreaterThan(0);
      expect(run.summary!.distill).toMatchObject({
        data: 'all',
        teachers: [{ name: 'ultralytics', mode: 'dense', sha256: sha256(`${FIX}/yolov8n-sample6.onnx`) }],
      });
      const board = await call(session, 'runs.leaderboard', { split: 'val' });
      expect(board.rows.find((r) => r.runId === run.id)!.distilledFrom).toEqual(['ultralytics']);
    },
    300_000,
  );

  it('a teacher at another input size teaches at box level, label-free, and centernet distils from a run', async () => {
    const preview = await call(session, 'distill.inspect', { teachers: ['boxes96'], model: {}, imgsz: 64 });
    expect(preview[0]).toMatchObject({ mode: 'boxes', imgsz: 96 });
    const run = await train({
      data: { imgsz: 64, batch: 4 },
      budget: { epochs: 1 },
      distill: { teachers: ['boxes96'], data: 'unlabeled', conf: 0.3 },
      device: 'cpu',
      name: 'label-free',
    });
    const epochs = await call(session, 'runs.epochs', { id: run.id });
    expect(epochs[0]!.metrics['loss.box']).toBeGreaterThan(0); // the teacher's boxes were the targets
    expect(run.summary!.distill).toMatchObject({ data: 'unlabeled', teachers: [{ mode: 'boxes' }] });

    // A centernet student distilled from a centernet run (self-distillation of the same model).
    const base = await train({
      model: { head: 'centernet' },
      data: { imgsz: 64, batch: 4 },
      budget: { epochs: 1 },
      device: 'cpu',
      name: 'centernet-base',
    });
    const kd = await train({
      model: { head: 'centernet' },
      data: { imgsz: 64, batch: 4 },
      budget: { epochs: 1 },
      distill: { teachers: [`run:${base.id}`], data: 'all' },
      loss: { weighting: 'adaptive' },
      device: 'cpu',
      name: 'centernet-kd',
    });
    const m = (await call(session, 'runs.epochs', { id: kd.id }))[0]!.metrics;
    expect(m['loss.kd_hm']).toBeGreaterThan(0);
    expect(m['loss.kd_wh']).toBeGreaterThanOrEqual(0);
    expect(kd.summary!.distill).toMatchObject({ teachers: [{ run: base.id, mode: 'dense', family: 'centernet' }] });
  }, 300_000);

  it('a cached teacher gives the loss a live one gives', async () => {
    const store = session.requireProject();
    const settings = resolveRunSettings({
      model: { nc: 6 },
      data: { imgsz: 64, batch: 6 },
      distill: { teachers: ['boxes64'], data: 'unlabeled', conf: 0.3 },
      device: 'cpu',
    });
    const student = buildDetector(settings.model);
    const runner = new Runner({ device: 'cpu', intraOpThreads: 1 });
    try {
      const loader = (sources: ReturnType<typeof projectSources>['sources']) =>
        new Loader(sources, { imgsz: 64, batch: 6, seed: 0, augment: false });
      // Live: the teacher on the batch.
      const live = prepareTeachers(store, settings, student);
      expect(live[0]!.mode).toBe('boxes');
      const spec = distillGraphSpec(live, { weight: 1, unlabeledImages: true });
      const hook = new DistillHook(live, spec, { nc: 6, conf: 0.3, distiller: distillerFor('yolo') });
      hook.beforeTrain({ runner, settings } as never);
      const a = (await loader(projectSources(store, { unlabeled: 'only' }).sources).batch(0, 0))!;
      await hook.beforeFeeds({} as never, a);
      // Cached: its boxes on the un-augmented images, through the loader like labels.
      const cachedSettings = { ...settings, distill: { ...settings.distill, cache: true } };
      const cached = prepareTeachers(store, cachedSettings, student);
      const sources = projectSources(store, { unlabeled: 'only' }).sources;
      expect(await applyTeacherCache(store.root, cached, sources, { conf: 0.3, runner })).toBe(sources.length);
      expect(
        await applyTeacherCache(store.root, cached, projectSources(store, { unlabeled: 'only' }).sources, {
          conf: 0.3,
          runner,
        }),
      ).toBe(0); // from disk now
      const b = (await loader(sources).batch(0, 0))!;
      const rows = (x: typeof a) => x.targets.reduce((n, _, i) => n + (i % 6 === 5 && x.targets[i]! > 0 ? 1 : 0), 0);
      expect(rows(a)).toBeGreaterThan(0);
      expect(rows(b)).toBe(rows(a));
      // The same loss from both batches, on the same student.
      seedInit(3);
      const model = buildDetector(settings.model);
      const objective = objectiveFor(model, { imgsz: 64, distill: spec });
      const step = new TrainStep(runner, model, (g, m, n, dims) =>
        objective.loss(g, m as typeof model, g.input('images', [n, 3, 64, 64]), n, dims),
      );
      const loss = async (x: typeof a) => {
        const feeds: Record<string, Feed> = {
          images: { dtype: 'float32', shape: [6, 3, 64, 64], data: x.images },
          ...objective.feeds(x),
          class_mask: { dtype: 'float32', shape: [6, 1, 6], data: new Float32Array(36).fill(1) },
        };
        return (await step.run(6, feeds, () => 0.5, objective.dims?.(x))).loss;
      };
      const [la, lb] = [await loss(a), await loss(b)];
      // The cached boxes went to image pixels and back through the letterbox gain; the teacher ran at batch 6
      // live and at 1 for the cache: targets agree to 1e-3 px, the loss to 1e-3.
      for (let i = 0; i < a.targets.length; i++) expect(Math.abs(a.targets[i]! - b.targets[i]!)).toBeLessThan(1e-3);
      expect(Math.abs(la - lb) / Math.abs(la)).toBeLessThan(1e-3);
    } finally {
      await runner.dispose();
    }
  }, 300_000);

  it('a distillation run resumes bit for bit', async () => {
    const store = session.requireProject();
    const base = (await call(session, 'runs.list', {})).find((r) => r.name === 'label-free')!;
    const settings = resolveRunSettings({
      model: { nc: 6 },
      data: { imgsz: 64, batch: 4 },
      budget: { epochs: 2 },
      distill: { teachers: [`run:${base.id}`], data: 'all' },
      seed: 4,
      device: 'cpu',
    });
    const train = projectSources(store, { unlabeled: 'also' }).sources;
    const val = splitTruth(store, 'val').images;
    const teachers = prepareTeachers(store, settings, buildDetector(settings.model));
    expect(teachers[0]).toMatchObject({ mode: 'dense', dfl: true });
    const spec = distillGraphSpec(teachers, { weight: 1, unlabeledImages: true });
    const make = (outDir: string, more: object = {}) =>
      new Trainer({ settings, train, val, outDir, threads: 1, distill: spec, ...more });
    const hook = () => new DistillHook(teachers, spec, { nc: 6, conf: 0.25, distiller: distillerFor('yolo') });
    const full = await make(`${tmp.dir}/kd-full`).fit({}, [hook()]);
    await make(`${tmp.dir}/kd-resumed`, { maxSteps: Math.ceil(train.length / 4) }).fit({}, [hook()]);
    const resumed = await make(`${tmp.dir}/kd-resumed`, { resume: true }).fit({}, [hook()]);
    const x = loadCheckpoint(full.last).tensors;
    const y = loadCheckpoint(resumed.last).tensors;
    for (const [name, t] of x)
      expect(Buffer.from(y.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
  }, 300_000);
});
