import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportModelResult } from '../../src-main/api/contract.js';
import { call } from '../../src-main/api/dispatch.js';
import type { Session } from '../../src-main/api/session.js';
import type { JobContext } from '../../src-main/util/job-context.js';
import { runJob } from '../../src-main/jobs/job-process.js';
import { startChild } from '../../src-main/util/worker-entry.js';
import { evaluateRun } from '../../src-main/eval/run-evaluation.js';
import type { tempDir } from '../helpers.js';
import { sampleSession } from '../sample-session.js';

let tmp: ReturnType<typeof tempDir>;
let session: Session;

beforeAll(async () => {
  ({ tmp, session } = await sampleSession(4, { train: 8, pool: 2, val: 3, test: 1 }));
}, 60_000);
afterAll(async () => {
  await session.dispose();
  tmp.cleanup();
});

describe('training through the API', () => {
  it('runs a training job with progress, stores the run and its epochs, and exports the run', async () => {
    const progress: string[] = [];
    session.onEvent((e) => {
      if (e.event === 'job.progress' && (e.data as { kind: string }).kind === 'train')
        progress.push((e.data as { message?: string }).message ?? '');
    });
    const { jobId } = await call(session, 'train.start', {
      model: { backbone: 'starnet_s050' },
      data: { imgsz: 64, batch: 4 },
      budget: { epochs: 2, valEvery: 2 }, // epoch 1 trains only; the summary's best must come from a validated epoch
      device: 'cpu',
    });
    const job = await session.jobs.wait(jobId);
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('done');
    expect(progress.some((m) => /epoch 2\/2 loss [\d.]+ \(box [\d.]+ cls [\d.]+ dfl [\d.]+\)/.test(m))).toBe(true);
    const runs = await call(session, 'runs.list', {});
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'done', settings: { model: { backbone: 'starnet_s050', nc: 6 } } });
    const epochs = await call(session, 'runs.epochs', { id: runs[0]!.id });
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(epochs[0]!.metrics).not.toHaveProperty('mAP50');
    expect(epochs[1]!.metrics).toHaveProperty('mAP50');
    expect(runs[0]!.summary).toMatchObject({ bestEpoch: 1, best: { mAP50: epochs[1]!.metrics.mAP50 } });

    const ev = await call(session, 'runs.evaluate', { id: runs[0]!.id, split: 'val' });
    expect(ev.images).toBe(3);
    expect(Object.keys(ev.coco)).toHaveLength(12);
    expect(ev.perClass.map((c) => c.name)).toEqual(['circle', 'square', 'triangle', 'star', 'hexagon', 'cross']);

    const out = `${tmp.dir}/run.onnx`;
    // No size asked: the run's own (it trained at 64), not 640.
    const r = (await call(session, 'models.export', { run: runs[0]!.id, out })) as ExportModelResult;
    expect(r.imgsz).toBe(64);
    expect(r.weights?.missing).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
    expect(r.verified.shapes.output0).toEqual([1, 10, 84]);
  }, 300_000);

  it('trains on the splits its settings name and validates on the split they name', async () => {
    const lines: string[] = [];
    const totals = new Set<number>();
    const off = session.onEvent((e) => {
      if (e.event === 'job.log') lines.push((e.data as { line: string }).line);
      const d = e.data as { kind?: string; message?: string; total?: number };
      if (e.event === 'job.progress' && d.kind === 'train' && d.message?.startsWith('epoch')) totals.add(d.total!);
    });
    const { jobId } = await call(session, 'train.start', {
      name: 'splits',
      model: { backbone: 'starnet_s050' },
      data: { imgsz: 64, batch: 4, trainSplits: ['train', 'val', 'test'], valSplit: 'test' },
      budget: { epochs: 1 },
      device: 'cpu',
    });
    const job = await session.jobs.wait(jobId);
    off();
    expect(job.status, job.error?.message).toBe('done');
    expect(lines.join('\n')).toMatch(
      /trains on the test split it validates on; its validation figures are not held out/,
    );
    const run = (await call(session, 'runs.list', {})).find((r) => r.name === 'splits')!;
    expect(run.settings.data).toMatchObject({ trainSplits: ['train', 'val', 'test'], valSplit: 'test' });
    // 8 train + 3 val + 1 test images at batch 4: 3 steps an epoch (the train split alone makes 2).
    expect([...totals]).toEqual([3]);
    await expect(
      call(session, 'train.start', { data: { trainSplits: ['test', 'test'] }, budget: { epochs: 1 } }),
    ).rejects.toThrow(/data\.trainSplits: a split is named twice/);
  }, 300_000);

  it('refuses a bad model before any job starts, naming the valid choices, and leaves no run behind', async () => {
    const before = (await call(session, 'runs.list', {})).length;
    const jobs = (await call(session, 'jobs.list', {})).length;
    const start = (model: Record<string, string>) =>
      call(session, 'train.start', { model, data: { imgsz: 64, batch: 4 }, budget: { epochs: 1 }, device: 'cpu' });
    await expect(start({ head: 'none' })).rejects.toThrow(
      /head 'none' has no detection output to train \(trainable heads: yolo, yolov5, centernet\)/,
    );
    await expect(start({ backbone: 'starnet_s9' })).rejects.toThrow(
      /model.backbone: unknown backbone "starnet_s9"; known: yolo11, yolov8, yolov5, yolov5_ghost, starnet_s1, /,
    );
    await expect(start({ head: 'retina' })).rejects.toThrow(
      /unknown head "retina"; known: yolo, yolov5, centernet, none/,
    );
    await expect(start({ model: 'yolo99' })).rejects.toThrow(/unknown architecture "yolo99"; known: yolo11/);
    expect((await call(session, 'jobs.list', {})).length).toBe(jobs);
    expect((await call(session, 'runs.list', {})).length).toBe(before);
  });

  it('keeps the process answering during training steps (a job process), and a cancelled run resumes', async () => {
    const stamps: number[] = [];
    const off = session.onEvent((e) => {
      if (e.event === 'job.progress' && (e.data as { kind: string }).kind === 'train') stamps.push(performance.now());
    });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const { jobId } = await call(session, 'train.start', {
      model: { backbone: 'starnet_s050' },
      // One long step per epoch: the stall a main-thread job would cause is well above scheduling noise.
      data: { imgsz: 320, batch: 8 },
      // Room for the cancel to land before the end, on a slow machine too.
      budget: { epochs: 10, valEvery: 10 },
      device: 'cpu',
      name: 'threaded',
    });
    // Lag is measured once steps run (the job process's start-up compiles TypeScript).
    await expect.poll(() => stamps.length, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(2);
    lag.enable();
    await expect.poll(() => stamps.length, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(5);
    lag.disable();
    await call(session, 'jobs.cancel', { id: jobId });
    const job = await session.jobs.wait(jobId);
    off();
    const steps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    const stepMs = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!;
    const maxLagMs = lag.max / 1e6;
    // Meaningful only if a step is long: on the main thread the loop would stall for a whole step.
    expect(stepMs).toBeGreaterThan(300);
    expect(maxLagMs).toBeLessThan(Math.max(200, stepMs * 0.5));
    expect(job.status).toBe('cancelled');
    const run = (await call(session, 'runs.list', {})).find((r) => r.name === 'threaded')!;
    expect(run.status).toBe('cancelled');

    const resumed = await call(session, 'train.start', { resume: run.id });
    expect((await session.jobs.wait(resumed.jobId)).status).toBe('done');
    expect((await call(session, 'runs.list', {})).find((r) => r.id === run.id)!.status).toBe('done');

    // The evaluation runs in a job process too, and gives what the evaluator gives on this thread.
    const viaWorker = await call(session, 'runs.evaluate', { id: run.id, split: 'val' });
    const here = await evaluateRun(session.requireProject(), run.id, 'val');
    expect(viaWorker.images).toBe(3);
    expect(viaWorker.coco).toEqual(here.coco);
    expect(viaWorker.parameters).toBe(here.parameters);
    await expect(call(session, 'runs.evaluate', { id: 999, split: 'val' })).rejects.toThrow(/999/);
  }, 300_000);

  /** A training of `epochs` in a job process of its own, with `onProgress` given that process and each message. */
  function trainInJobProcess(name: string, epochs: number, onProgress: (child: ChildProcess, message: string) => void) {
    let child: ChildProcess | null = null;
    const ctx: JobContext = {
      signal: new AbortController().signal,
      progress: (_done, _total, message) => {
        if (child && message) onProgress(child, message);
      },
      throwIfCancelled: () => {},
    };
    const req = {
      model: { backbone: 'starnet_s050' },
      data: { imgsz: 64, batch: 4 },
      budget: { epochs, patience: 100 },
      device: 'cpu' as const,
      name,
    };
    return runJob(
      session.requireProject(),
      { kind: 'train', req },
      ctx,
      (url, entry) => (child = startChild(url, entry)),
    );
  }

  it('marks the run failed when its job process is killed midway, and the run resumes from its last epoch', async () => {
    const store = session.requireProject();
    // Killed as epoch 2 starts (epoch 1's checkpoint is written), as a native abort or an out-of-memory kill
    // would: mid-step, with onnxruntime's native code in flight. Only the job's process goes; this one lives on.
    // 6 epochs leave steps after the kill, so the job cannot finish first.
    await expect(
      trainInJobProcess('killed', 6, (child, message) => {
        if (message.startsWith('epoch 2/')) child.kill('SIGKILL');
      }),
    ).rejects.toThrow(/the train worker process stopped \(signal SIGKILL\) before reporting a result/);
    const run = store.runs.list().find((r) => r.name === 'killed')!;
    expect(run.status).toBe('failed');
    expect(run.summary).toMatchObject({ error: expect.stringMatching(/worker process stopped \(signal SIGKILL\)/) });

    const resumed = await call(session, 'train.start', { resume: run.id });
    expect((await session.jobs.wait(resumed.jobId)).status).toBe('done');
    expect(store.runs.get(run.id).status).toBe('done');
    expect((await call(session, 'runs.epochs', { id: run.id })).map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
  }, 120_000);

  it('stops its job process when the app goes away: a training nobody can see or cancel does not go on', async () => {
    const store = session.requireProject();
    const started = Date.now();
    // The app's end of the channel closes (the app quit or crashed) once the job is training.
    await expect(
      trainInJobProcess('orphaned', 50, (child, message) => {
        if (message.startsWith('epoch 1/') && child.connected) child.disconnect();
      }),
    ).rejects.toThrow(/the train worker process stopped \(exit code 1\)/);
    expect(Date.now() - started).toBeLessThan(60_000);
    const run = store.runs.list().find((r) => r.name === 'orphaned')!;
    expect(run.status).toBe('failed');
    expect(store.runs.epochs(run.id).length).toBeLessThan(50);
  }, 120_000);
});
