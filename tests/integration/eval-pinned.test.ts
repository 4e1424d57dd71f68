/**
 * Pins every evaluation number on a small sample project: per-epoch validation during training, the run
 * evaluation on val and test (the exported graph), the detection review, and pseudo-label quality against the
 * pool's hidden truth (the run's export as a teacher). The numbers in tests/fixtures/eval-pinned.json were
 * captured before the evaluation paths were merged into src-main/eval/; they must stay bit-identical.
 * Forty epochs of training are bit-exact on one CPU but not across CPUs (onnxruntime's kernels differ by
 * instruction set), so the file keeps one set of numbers per kind of CPU, and a machine must give the set of its
 * own kind, or one of the known sets when its kind has none. `STARLING_PIN=1 npx vitest run
 * tests/integration/eval-pinned.test.ts` writes this CPU's set (on a new kind of CPU, from a commit whose numbers
 * are known good; else only when the data, the model or the trainer change on purpose).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import type { Session } from '../../src-main/api/session.js';
import { cocoStats } from '../../src-main/eval/summary.js';
import type { tempDir } from '../helpers.js';
import { sampleSession } from '../sample-session.js';

const PINNED = path.join(import.meta.dirname, '../fixtures/eval-pinned.json');

/** The kind of CPU, as far as onnxruntime's kernel choice goes: its model and whether it has AVX-512. */
function cpuKind(): string {
  const info = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const field = (k: string) => new RegExp(`^${k}\\s*: (.*)$`, 'm').exec(info)?.[1]?.trim() ?? '?';
  const isa = /\bavx512f\b/.test(info) ? 'AVX-512' : /\bavx2\b/.test(info) ? 'AVX2' : 'no AVX2';
  return `${field('model name')} family ${field('cpu family')} model ${field('model')} (${isa})`;
}

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
    const cpu = cpuKind();
    let sets = JSON.parse(fs.readFileSync(PINNED, 'utf8')) as { cpu: string; numbers: unknown }[];
    if (process.env.STARLING_PIN === '1') {
      sets = [...sets.filter((x) => x.cpu !== cpu), { cpu, numbers: now }];
      fs.writeFileSync(PINNED, JSON.stringify(sets, null, 1) + '\n');
    }
    // Trained: the numbers are not all zero, so the comparison says something.
    expect((now as { evaluations: { val: { stats: number[] } } }).evaluations.val.stats[1]).toBeGreaterThan(0);
    const own = sets.find((x) => x.cpu === cpu);
    if (own) expect(now).toEqual(own.numbers);
    else
      expect(
        sets.some((x) => util.isDeepStrictEqual(x.numbers, now)),
        `${cpu}: no pinned set for this kind of CPU, and none of the known sets (${sets.map((x) => x.cpu).join('; ')}) ` +
          'matches; pin it from a known-good commit (see the top of this file)',
      ).toBe(true);
  }, 600_000);
});
