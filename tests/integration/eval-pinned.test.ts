/**
 * Pins every evaluation number on a small sample project: per-epoch validation during training, the run
 * evaluation on val and test (the exported graph), the detection review, and pseudo-label quality against the
 * pool's hidden truth (the run's export as a teacher). The numbers in tests/fixtures/eval-pinned.json were
 * captured before the evaluation paths were merged into src-main/eval/; they must stay bit-identical.
 * `STARLING_PIN=1 npx vitest run tests/integration/eval-pinned.test.ts` rewrites the file (only when the data,
 * the model or the trainer change on purpose).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import type { Session } from '../../src-main/api/session.js';
import { cocoStats } from '../../src-main/eval/summary.js';
import type { tempDir } from '../helpers.js';
import { sampleSession } from '../sample-session.js';

const PINNED = path.join(import.meta.dirname, '../fixtures/eval-pinned.json');

let tmp: ReturnType<typeof tempDir>;
let session: Session;

beforeAll(async () => {
  // The data and the loader as the pins were captured: the first sample's sizes, images decoded every time.
  ({ tmp, session } = await sampleSession(5, { train: 24, pool: 8, val: 8, test: 8 }, 'log-uniform'));
}, 120_000);
afterAll(async () => {
  await session.dispose();
  tmp.cleanup();
});

/** Rounds nothing: JSON keeps every float64 exactly. */
const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

describe('evaluation numbers on the sample project', () => {
  it('are the same through training validation, run evaluation, detection review and pseudo-label quality', async () => {
    const { jobId } = await call(session, 'train.start', {
      model: { backbone: 'yolo11', head: 'yolo' },
      data: { imgsz: 256, batch: 4, cache: 'off' },
      augment: { mosaic: 0 },
      optimizer: { name: 'AdamW', lr0: 0.003, warmupEpochs: 1, warmupMinIters: 0 },
      budget: { epochs: 40, valEvery: 20 },
      device: 'cpu',
      seed: 0,
    });
    const job = await session.jobs.wait(jobId);
    expect(job.error).toBeUndefined();
    const runId = (job.result as { runId: number }).runId;
    const epochs = await call(session, 'runs.epochs', { id: runId });
    const validation = epochs
      .filter((e) => e.metrics.mAP50 !== undefined)
      .map((e) => ({
        epoch: e.epoch,
        mAP50: e.metrics.mAP50,
        'mAP50-95': e.metrics['mAP50-95'],
        mAP75: e.metrics.mAP75,
        recall100: e.metrics.recall100,
        fitness: e.metrics.fitness,
      }));
    const evaluations: Record<string, unknown> = {};
    for (const split of ['val', 'test'] as const) {
      const ev = await call(session, 'runs.evaluate', { id: runId, split });
      evaluations[split] = { images: ev.images, stats: cocoStats(ev.coco), metrics: ev.metrics, perClass: ev.perClass };
    }
    // Every stored prediction (letterbox, run, decode, NMS, back to image pixels), as one digest.
    const { items } = await call(session, 'images.list', { filter: { split: 'val' } });
    const predictions = [];
    for (const im of items)
      predictions.push(...(await call(session, 'runs.predictions', { id: runId, imageId: im.id })));
    const predictionDigest = {
      count: predictions.length,
      sha1: crypto
        .createHash('sha1')
        .update(JSON.stringify(predictions.map(({ id: _id, runId: _r, ...p }) => p)))
        .digest('hex'),
    };
    const review = await call(session, 'runs.review', { id: runId, split: 'val', conf: 0.1 });
    const reviewPinned = {
      images: review.images.map(({ imageId: _id, ...rest }) => rest),
      confusion: review.confusion,
      prCurves: review.prCurves.map((c) => c.precision),
    };

    const onnx = `${tmp.dir}/run.onnx`;
    await call(session, 'models.export', { run: runId, out: onnx, imgsz: 256 });
    const teacher = await call(session, 'teachers.add', { path: onnx, name: 'run' });
    const pl = await call(session, 'pseudo.start', { teachers: [teacher.id], conf: 0.05 });
    expect((await session.jobs.wait(pl.jobId)).status).toBe('done');
    const quality = await call(session, 'review.quality', {});
    expect(quality).not.toBeNull();

    const now = plain({ validation, evaluations, predictions: predictionDigest, review: reviewPinned, quality });
    if (process.env.STARLING_PIN === '1') fs.writeFileSync(PINNED, JSON.stringify(now, null, 1) + '\n');
    const pinned = JSON.parse(fs.readFileSync(PINNED, 'utf8')) as Record<string, unknown>;
    // Trained: the numbers are not all zero, so the comparison says something.
    expect((now as { evaluations: { val: { stats: number[] } } }).evaluations.val.stats[1]).toBeGreaterThan(0);
    expect(now).toEqual(pinned);
  }, 600_000);
});
