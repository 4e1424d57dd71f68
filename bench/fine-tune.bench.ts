/**
 * Fine-tuning against training from scratch, at the same wall-clock budget, on the sample project (seed 0):
 * 1. a YOLO11n-StarNet s050 trained first on a *different* sample (seed 1: other images, same classes), then
 *    fine-tuned on seed 0, against the same model from random weights on seed 0;
 * 2. the Ultralytics fixture checkpoint (YOLOv8n trained by Ultralytics, ../shared/fixtures/ultralytics) fine-tuned
 *    on seed 0, against YOLOv8n from random weights.
 * Every run validates every epoch; the per-epoch val mAP50 curves are printed side by side, as markdown.
 *
 *   npm run bench:finetune                 (base 4 min, each compared run 3 min: about 20 minutes in all)
 *   npm run bench:finetune -- 2 1.5        (base minutes, compared minutes)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import type { RunSettingsInput } from '../src-main/settings/run-settings.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'fine-tune');
const BASE_MINUTES = Number(process.argv[2] ?? 4);
const MINUTES = Number(process.argv[3] ?? 3);
const FIXTURE = path.resolve(HERE, '../../shared/fixtures/ultralytics/yolov8n-sample6.pt');

process.env.STARLING_HOME = path.join(DATA, 'home');
fs.rmSync(DATA, { recursive: true, force: true });
fs.mkdirSync(DATA, { recursive: true });
const session = new Session();

async function sample(name: string, seed: number): Promise<string> {
  const dir = path.join(DATA, name);
  const { jobId } = await call(session, 'sample.create', { dir, seed });
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`sample ${seed}: ${job.error?.message}`);
  return dir;
}

interface Curve {
  name: string;
  mAP50: (number | undefined)[];
  seconds: number;
}

async function train(project: string, name: string, settings: RunSettingsInput, minutes: number): Promise<Curve> {
  await call(session, 'project.open', { path: project });
  const t0 = Date.now();
  const { jobId } = await call(session, 'train.start', {
    ...settings,
    data: { imgsz: 320, batch: 16, ...settings.data },
    budget: { epochs: 100, minutes, valEvery: 1 },
    device: 'cpu',
    name,
  });
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`${name}: ${job.error?.message ?? job.status}`);
  const run = (await call(session, 'runs.list', {})).find((r) => r.name === name)!;
  const epochs = await call(session, 'runs.epochs', { id: run.id });
  const curve = { name, mAP50: epochs.map((e) => e.metrics.mAP50), seconds: (Date.now() - t0) / 1000 };
  console.log(`${name}: ${curve.mAP50.map((m) => m?.toFixed(3) ?? '-').join(' ')} (${curve.seconds.toFixed(0)} s)`);
  return curve;
}

function table(title: string, curves: Curve[]): string {
  const n = Math.max(...curves.map((c) => c.mAP50.length));
  const head = `| run | ${Array.from({ length: n }, (_, i) => i + 1).join(' | ')} | wall s |`;
  const sep = `|---|${'---|'.repeat(n + 1)}`;
  const rows = curves.map(
    (c) =>
      `| ${c.name} | ${Array.from({ length: n }, (_, i) => c.mAP50[i]?.toFixed(3) ?? '').join(' | ')} | ${c.seconds.toFixed(0)} |`,
  );
  return `${title}\n\n${head}\n${sep}\n${rows.join('\n')}\n`;
}

const student = { model: { model: 'yolo11', backbone: 'starnet_s050', scale: 'n' as const } };
const other = await sample('seed1', 1);
const target = await sample('seed0', 0);

await train(other, 'base-seed1', student, BASE_MINUTES);
await call(session, 'project.open', { path: other });
const base = (await call(session, 'runs.list', {})).find((r) => r.name === 'base-seed1')!;
const scratch = await train(target, 'scratch', student, MINUTES);
const tuned = await train(target, 'from-seed1', { ...student, weights: { from: base.artifacts.best! } }, MINUTES);
const out = [
  table(`val mAP50 by epoch on sample seed 0, ${MINUTES} min each (base: ${BASE_MINUTES} min on seed 1)`, [
    scratch,
    tuned,
  ]),
];

if (fs.existsSync(FIXTURE)) {
  const v8 = { model: { model: 'yolov8', backbone: 'yolov8', scale: 'n' as const } };
  const v8scratch = await train(target, 'yolov8n-scratch', v8, MINUTES);
  const v8tuned = await train(target, 'yolov8n-from-fixture', { ...v8, weights: { from: FIXTURE } }, MINUTES);
  out.push(table(`YOLOv8n, val mAP50 by epoch on sample seed 0, ${MINUTES} min each`, [v8scratch, v8tuned]));
} else console.log(`skipped the fixture comparison: ${FIXTURE} is not there`);

console.log('\n' + out.join('\n'));
await session.dispose();
