/**
 * Learning speed (issue "the demo"): the demo's student and recipe trained on the sample project (seed 0) for a
 * fixed wall-clock budget, validated every epoch, and val mAP50 read at 2, 4, 6 and 8 minutes of training (the
 * last validation at or before each mark), so a regression in how fast Starling learns shows like a regression
 * in step time.
 *
 *   npm run bench:learn               (8 minutes of training, about 10 in all)
 *   npm run bench:learn -- 4          (a 4-minute budget: marks at 1, 2, 3, 4)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { DEMO_MODEL, DEMO_RECIPE } from '../src-main/cli/demo.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'learn');
const MINUTES = Number(process.argv[2] ?? 8);
const MARKS = [0.25, 0.5, 0.75, 1].map((f) => f * MINUTES);

process.env.STARLING_HOME = path.join(DATA, 'home');
fs.rmSync(DATA, { recursive: true, force: true });
fs.mkdirSync(DATA, { recursive: true });
const session = new Session();
try {
  const made = await call(session, 'sample.create', { dir: path.join(DATA, 'sample'), seed: 0, open: true });
  await session.jobs.wait(made.jobId);
  const { jobId } = await call(session, 'train.start', {
    ...DEMO_RECIPE,
    model: { ...DEMO_MODEL },
    data: { ...DEMO_RECIPE.data, imgsz: 320 },
    budget: { ...DEMO_RECIPE.budget, epochs: 300, minutes: MINUTES, valEvery: 1 },
    device: 'cpu',
    seed: 0,
    name: 'learn',
  });
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`training: ${job.error?.message ?? job.status}`);
  const run = (await call(session, 'runs.list', {})).at(-1)!;
  const epochs = await call(session, 'runs.epochs', { id: run.id });
  // Minutes of training (validation included, as the budget counts it) at the end of each epoch.
  let elapsed = 0;
  const at = epochs.map((e) => {
    elapsed += (e.metrics.seconds ?? 0) / 60;
    return { minutes: elapsed, epoch: e.epoch + 1, mAP50: e.metrics.mAP50 };
  });
  console.log(
    `\n${MINUTES}-minute budget, ${epochs.length} epochs, ${DEMO_MODEL.backbone} / ${DEMO_MODEL.head} at 320`,
  );
  console.log('| minutes | epoch | val mAP50 |');
  console.log('|---|---|---|');
  for (const mark of MARKS) {
    const last = at.filter((x) => x.minutes <= mark + 1e-9 && x.mAP50 !== undefined).at(-1);
    console.log(`| ${mark} | ${last?.epoch ?? '-'} | ${last?.mAP50?.toFixed(3) ?? '-'} |`);
  }
} finally {
  await session.dispose();
}
