/**
 * Fine-tuning through the API, as the CLI and the Train view start it: from an earlier run (`run:N`), from the
 * real Ultralytics checkpoint (the model taken from the file), from a StarNet ImageNet release (the backbone
 * width taken from it); frozen layers stay as loaded; the run records where its weights came from (sha256) and
 * the leaderboard shows it; a file that does not fit the model starts nothing unless forced.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import type { Session } from '../../src-main/api/session.js';
import { loadCheckpoint } from '../../src-main/engine/checkpoint.js';
import type { tempDir } from '../helpers.js';
import { sampleSession } from '../sample-session.js';
import { makeCheckpoints, pythonWithTorch, ultralyticsFixture } from '../third-party.js';

const FIX = ultralyticsFixture();
const python = pythonWithTorch();

let tmp: ReturnType<typeof tempDir>;
let session: Session;
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const tiny = { data: { imgsz: 64, batch: 4 }, device: 'cpu' as const };

beforeAll(async () => {
  ({ tmp, session } = await sampleSession(6, { train: 8, pool: 0, val: 3, test: 0 }));
  if (python) makeCheckpoints(python, `${tmp.dir}/ck`);
}, 300_000);
afterAll(async () => {
  await session.dispose();
  tmp.cleanup();
});

async function train(req: Parameters<typeof call<'train.start'>>[2]) {
  const { jobId } = await call(session, 'train.start', req);
  return session.jobs.wait(jobId);
}

describe('fine-tuning', () => {
  it('starts from an earlier run with layers frozen, records the start and shows it on the leaderboard', async () => {
    const first = await train({ ...tiny, model: { backbone: 'starnet_s050' }, budget: { epochs: 1 }, name: 'base' });
    expect(first.status).toBe('done');
    const base = (await call(session, 'runs.list', {})).find((r) => r.name === 'base')!;

    const tuned = await train({
      ...tiny,
      weights: { from: `run:${base.id}`, freeze: 1 }, // model.0: the whole StarNet backbone
      budget: { epochs: 2 },
      name: 'tuned',
    });
    expect(tuned.error).toBeUndefined();
    const run = (await call(session, 'runs.list', {})).find((r) => r.name === 'tuned')!;
    expect(run.settings.model).toMatchObject({ backbone: 'starnet_s050', head: 'yolo', nc: 6 }); // from the run
    const w = run.summary!.weights as Record<string, unknown>;
    expect(w).toMatchObject({ from: `run:${base.id}`, run: base.id, format: 'starling', coverage: 1 });
    expect(w.sha256).toBe(sha256(base.artifacts.best!));
    const summary = run.summary as { parameters: number; trainable: number };
    expect(summary.trainable).toBeLessThan(summary.parameters);

    // The frozen backbone is exactly what was loaded (the base run's EMA weights); the rest trained.
    const loaded = loadCheckpoint(base.artifacts.best!).tensors;
    const after = loadCheckpoint(run.artifacts.last!).tensors;
    const same = (name: string) =>
      Buffer.from(after.get(`model/${name}`)!.data.buffer).equals(Buffer.from(loaded.get(`ema/${name}`)!.data.buffer));
    expect(same('model.0.stem.0.conv.weight')).toBe(true);
    expect(same('model.0.stages.3.1.g.conv.weight')).toBe(true);
    expect(same('model.19.cv2.0.2.weight')).toBe(false);

    const board = await call(session, 'runs.leaderboard', { split: 'val' });
    expect(board.rows.find((r) => r.runId === base.id)!.from).toEqual({ kind: 'scratch' });
    expect(board.rows.find((r) => r.runId === run.id)!.from).toMatchObject({ kind: 'run', run: base.id });

    // Resuming keeps the record (and does not load the start again: the checkpoint restores).
    const resumed = await train({ resume: run.id });
    expect(resumed.status).toBe('done');
    expect((await call(session, 'runs.list', {})).find((r) => r.id === run.id)!.summary!.weights).toEqual(w);
  }, 300_000);

  it.skipIf(!FIX)(
    'takes the model from an Ultralytics checkpoint and refuses one that does not fit',
    async () => {
      const pt = `${FIX}/yolov8n-sample6.pt`;
      const preview = await call(session, 'weights.inspect', { from: pt, model: {} });
      expect(preview.adopted).toEqual({ model: 'yolov8', backbone: 'yolov8' });
      expect(preview.verdict).toBeNull();
      expect(preview.card).toMatchObject({
        nc: 6,
        names: ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'],
      });

      const before = (await call(session, 'runs.list', {})).length;
      const refused = await train({ ...tiny, model: { backbone: 'starnet_s050' }, weights: { from: pt } });
      expect(refused.status).toBe('failed');
      expect(refused.error!.message).toMatch(
        /yolov8n-sample6\.pt: (only [\d.]+% of its tensors fit the model|no tensor in it matches the model)/,
      );
      expect(refused.error!.message).toMatch(/--model yolov8 --backbone yolov8 --scale n/);
      expect((await call(session, 'runs.list', {})).length).toBe(before); // no run was created

      const job = await train({ ...tiny, weights: { from: pt }, budget: { epochs: 1 }, name: 'from-ultralytics' });
      expect(job.error).toBeUndefined();
      const run = (await call(session, 'runs.list', {})).find((r) => r.name === 'from-ultralytics')!;
      expect(run.settings.model).toMatchObject({ model: 'yolov8', backbone: 'yolov8', scale: 'n', nc: 6 });
      expect(run.summary!.weights).toMatchObject({ format: 'ultralytics', coverage: 1, sha256: sha256(pt) });

      const forced = await train({
        ...tiny,
        model: { backbone: 'starnet_s050' },
        weights: { from: pt, force: true },
        budget: { epochs: 1 },
        name: 'forced',
      });
      expect(forced.status).toBe('done');
    },
    300_000,
  );

  it.skipIf(!python)(
    'fine-tunes from yolo11n.pt and from torchvision ShuffleNetV2 / MobileNetV3 releases',
    async () => {
      const cases = [
        { file: 'yolo11n.pt', model: {}, expect: { format: 'ultralytics', mode: 'model' }, arch: 'yolo11' },
        {
          file: 'shufflenet_v2_x1_0.pth',
          model: { backbone: 'shufflenetv2_x1_0' },
          expect: { format: 'pytorch', mode: 'backbone', backboneCoverage: 1 },
          arch: 'yolo11',
        },
        {
          file: 'mobilenet_v3_small.pth',
          model: { model: 'yolov8', backbone: 'mobilenetv3_small' }, // a plain backbone in YOLOv8, as seed 001 does
          expect: { format: 'pytorch', mode: 'backbone', backboneCoverage: 1 },
          arch: 'yolov8',
        },
      ];
      for (const c of cases) {
        const job = await train({
          ...tiny,
          model: c.model,
          weights: { from: `${tmp.dir}/ck/${c.file}` },
          budget: { epochs: 1 },
          name: c.file,
        });
        expect(job.error, c.file).toBeUndefined();
        const run = (await call(session, 'runs.list', {})).find((r) => r.name === c.file)!;
        expect(run.summary!.weights, c.file).toMatchObject(c.expect);
        expect(run.settings.model.model).toBe(c.arch);
      }
    },
    300_000,
  );

  it.skipIf(!python)(
    'starts a StarNet from its ImageNet release, at the width it was trained at',
    async () => {
      const job = await train({
        ...tiny,
        model: { backbone: 'starnet_s1' },
        weights: { from: `${tmp.dir}/ck/starnet_s1.pth.tar` },
        budget: { epochs: 1 },
        name: 'imagenet',
      });
      expect(job.error).toBeUndefined();
      const run = (await call(session, 'runs.list', {})).find((r) => r.name === 'imagenet')!;
      expect(run.settings.model).toMatchObject({ backbone: 'starnet_s1', backboneWidth: 1 });
      expect(run.summary!.weights).toMatchObject({
        format: 'pytorch',
        mode: 'backbone',
        backboneCoverage: 1,
        adopted: { backboneWidth: 1 },
      });
    },
    300_000,
  );
});
