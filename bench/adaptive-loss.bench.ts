/**
 * What fixed-value adaptive loss weights (centerX's "communism" weights) are for: at a learning rate where the
 * fixed-gain loss diverges or collapses, the adaptive run keeps training. Same student, same data, same steps,
 * SGD with a cosine schedule, the listed lr0 values, fixed gains against `--loss-weights adaptive`; per run the
 * outcome (done, or the step where the loss stopped being finite), the loss by epoch and the final val mAP50.
 *
 *   npm run bench:adaptive                       (lr0 0.01 0.1 1 3, 6 epochs of 96 images at 256: ~10 minutes)
 *   npm run bench:adaptive -- 0.05 0.5           (other lr0 values)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'adaptive-loss');
const LRS = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : [0.01, 0.1, 1, 3];
const EPOCHS = 6;

process.env.STARLING_HOME = path.join(DATA, 'home');
fs.rmSync(DATA, { recursive: true, force: true });
fs.mkdirSync(DATA, { recursive: true });
const session = new Session();
try {
  const { jobId } = await call(session, 'sample.create', {
    dir: path.join(DATA, 'sample'),
    seed: 0,
    counts: { train: 96, pool: 0, val: 24, test: 0 },
    open: true,
  });
  await session.jobs.wait(jobId);
  const rows: string[] = [];
  for (const lr0 of LRS)
    for (const weighting of ['fixed', 'adaptive'] as const) {
      const name = `lr0 ${lr0} ${weighting}`;
      const t0 = Date.now();
      const started = await call(session, 'train.start', {
        name,
        data: { imgsz: 256, batch: 8 },
        optimizer: { name: 'SGD', lr0, schedule: 'cosine', warmupEpochs: 1 },
        budget: { epochs: EPOCHS, valEvery: 1 },
        loss: { weighting },
        device: 'cpu',
      });
      const job = await session.jobs.wait(started.jobId);
      const run = (await call(session, 'runs.list', {})).find((r) => r.name === name)!;
      const epochs = await call(session, 'runs.epochs', { id: run.id });
      const losses = epochs.map((e) => {
        const terms = Object.entries(e.metrics).filter(([k]) => ['loss.box', 'loss.cls', 'loss.dfl'].includes(k));
        return terms.reduce((a, [, v]) => a + (v ?? 0), 0).toFixed(2);
      });
      const maps = epochs.map((e) => e.metrics.mAP50?.toFixed(3) ?? '-');
      const outcome = job.status === 'done' ? 'done' : `${job.status}: ${job.error?.message ?? ''}`;
      const line = `| ${lr0} | ${weighting} | ${outcome} | ${losses.join(' ')} | ${maps.join(' ')} | ${((Date.now() - t0) / 1000).toFixed(0)} |`;
      console.log(line);
      rows.push(line);
    }
  console.log(`\nSGD, cosine, ${EPOCHS} epochs of 96 images at 256, batch 8, val 24 images`);
  console.log('| lr0 | weights | outcome | box+cls+dfl by epoch | val mAP50 by epoch | s |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
} finally {
  await session.dispose();
}
