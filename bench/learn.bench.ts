/**
 * Learning speed and throughput of the demo's training (issue "the demo").
 *
 *   npm run bench:learn                        val mAP50 at 2, 4, 6 and 8 minutes of the demo's training
 *   npm run bench:learn -- 4                   a 4-minute budget (marks at 1, 2, 3, 4)
 *   npm run bench:learn -- 8 --set KEY=VALUE   one lever changed (dotted run-settings key; JSON or a string
 *                                              value), as the ablation table's rows were made
 *   npm run bench:learn -- 8 --sizes log-uniform   the same on the first sample's object sizes
 *   npm run bench:learn -- throughput          images/s of the demo's training (data loader and all) against
 *                                              the same loop on pre-made batches, the step's limit
 *
 * Curves: the demo's student and recipe on the sample project (seed 0), validated every epoch; a mark reads
 * the last validation at or before it, counting minutes as the time budget does (validation included).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { DEMO_MODEL, DEMO_RECIPE } from '../src-main/cli/demo.js';
import { splitTruth } from '../src-main/eval/ground-truth.js';
import { ProjectStore } from '../src-main/store/project.js';
import { resolveRunSettings, type RunSettingsInput } from '../src-main/settings/run-settings.js';
import { Loader, projectSources, type Batch } from '../src-main/train/loader.js';
import type { BatchSource } from '../src-main/train/threaded-loader.js';
import { Trainer } from '../src-main/train/trainer.js';
import type { SizeMix } from '../src-main/sample/size-mix.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'learn');
const args = process.argv.slice(2);
const flag = (name: string) => args.flatMap((a, i) => (a === name ? [args[i + 1]!] : []));
const sizes = (flag('--sizes')[0] ?? 'coco') as SizeMix;
const sampleDir = path.join(DATA, 'sample');
process.env.STARLING_HOME = path.join(DATA, 'home');
const session = new Session();

/** `a.b.c=value` into a nested object (value parsed as JSON when it parses). */
function overrides(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const [key, raw] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    const keys = key.split('.');
    let at = out;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[keys.at(-1)!] = value;
  }
  return out;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object'
        ? merge(out[k] as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  return out;
}

/** The demo's run settings at imgsz 320, with the bench's overrides. */
function demoSettings(extra: Record<string, unknown>): RunSettingsInput {
  const base = {
    ...DEMO_RECIPE,
    model: { ...DEMO_MODEL },
    data: { ...DEMO_RECIPE.data, imgsz: 320 },
    budget: { ...DEMO_RECIPE.budget, epochs: 300 },
    device: 'cpu',
    seed: 0,
  };
  return merge(base, extra) as RunSettingsInput;
}

async function curve(minutes: number, extra: Record<string, unknown>): Promise<void> {
  const marks = [0.25, 0.5, 0.75, 1].map((f) => f * minutes);
  const settings = demoSettings(merge({ budget: { minutes, valEvery: 1 } }, extra));
  const { jobId } = await call(session, 'train.start', { ...settings, name: 'learn' } as never);
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`training: ${job.error?.message ?? job.status}`);
  const run = (await call(session, 'runs.list', {})).at(-1)!;
  const epochs = await call(session, 'runs.epochs', { id: run.id });
  let elapsed = 0;
  const at = epochs.map((e) => {
    elapsed += (e.metrics.seconds ?? 0) / 60;
    return {
      minutes: elapsed,
      epoch: e.epoch + 1,
      mAP50: e.metrics.mAP50,
      imagesPerSecond: e.metrics.imagesPerSecond ?? 0,
    };
  });
  const m = run.settings.model;
  const changed = flag('--set').join(' ') || 'none';
  console.log(
    `\n${minutes}-minute budget, ${epochs.length} epochs, ${m.backbone} / ${m.head} at ${run.settings.data.imgsz},` +
      ` sample sizes ${sizes}, changed: ${changed}`,
  );
  console.log('| minutes | epoch | val mAP50 |');
  console.log('|---|---|---|');
  // Only validated epochs have a mAP50; the marks, the best and the curve read these.
  const validated = at.flatMap((x) => (x.mAP50 === undefined ? [] : [{ ...x, mAP50: x.mAP50 }]));
  for (const mark of marks) {
    const last = validated.filter((x) => x.minutes <= mark + 1e-9).at(-1);
    console.log(`| ${mark} | ${last?.epoch ?? '-'} | ${last?.mAP50.toFixed(3) ?? '-'} |`);
  }
  const best = Math.max(0, ...validated.map((x) => x.mAP50));
  const ips = at.slice(1).reduce((s, x) => s + x.imagesPerSecond, 0) / Math.max(1, at.length - 1);
  console.log(
    `curve (minutes:mAP50, validated epochs): ${validated
      .map((x) => `${x.minutes.toFixed(1)}:${x.mAP50.toFixed(3)}`)
      .join(' ')}`,
  );
  console.log(`best val mAP50 ${best.toFixed(3)}, ${ips.toFixed(1)} images/s in training (epochs 2+)`);
}

/** The same batch, `steps` times an epoch: the loop's limit with no data loading at all. */
class PremadeBatches implements BatchSource {
  epochs: number | undefined;
  constructor(
    private readonly batch: Batch,
    readonly batchesPerEpoch: number,
  ) {}
  async *epoch(): AsyncGenerator<Batch> {
    for (let i = 0; i < this.batchesPerEpoch; i++)
      yield { ...this.batch, images: this.batch.images.slice(), targets: this.batch.targets.slice() };
  }
  async close(): Promise<void> {}
}

const FEEDINGS = ['premade', 'off', 'ram'] as const;
type Feeding = (typeof FEEDINGS)[number];

/** Images/s of the loop fed one way, epochs 2+ (epoch 1 compiles the graph and starts the session). */
async function throughputOf(feeding: Feeding, extra: Record<string, unknown>): Promise<number> {
  const store = ProjectStore.open(sampleDir);
  const { sources } = projectSources(store);
  const val = splitTruth(store, 'val').images.slice(0, 8);
  store.close();
  const base = demoSettings(
    merge({ model: { nc: 6 }, budget: { epochs: 3, valEvery: 100, minutes: undefined } }, extra),
  );
  const settings = resolveRunSettings(base);
  let batches: BatchSource | undefined;
  if (feeding === 'premade') {
    const loader = new Loader(sources, { imgsz: 320, batch: settings.data.batch, seed: 0 });
    batches = new PremadeBatches((await loader.batch(0, 0))!, Math.ceil(sources.length / settings.data.batch));
  }
  const trainer = new Trainer({
    settings: { ...settings, data: { ...settings.data, cache: feeding === 'ram' ? 'ram' : 'off' } },
    train: sources,
    val,
    outDir: path.join(DATA, `tp-${feeding}`),
    ...(batches ? { batches } : {}),
  });
  const r = await trainer.fit();
  const later = r.history.slice(1).map((h) => h.metrics.imagesPerSecond!);
  return later.reduce((a, b) => a + b, 0) / later.length;
}

/**
 * Each feeding in its own process, twice, interleaved: in one process a later trainer ran 10-15% slower than the
 * one before it whatever it was fed, and single runs vary by up to 10%.
 */
async function throughput(): Promise<void> {
  const rates = new Map<Feeding, number[]>();
  for (const feeding of [...FEEDINGS, ...FEEDINGS]) {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), 'throughput-one', feeding, ...args.slice(1)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    rates.set(feeding, [...(rates.get(feeding) ?? []), Number(/images\/s (\S+)/.exec(out)![1])]);
  }
  const mean = (f: Feeding) => rates.get(f)!.reduce((a, b) => a + b, 0) / rates.get(f)!.length;
  const bare = mean('premade');
  const changed = flag('--set').join(' ') || 'none';
  console.log(`\nthe demo's training loop, imgsz 320, changed: ${changed}`);
  console.log('| batches from | images/s (mean of 2 runs; each run) | of the limit |');
  console.log('|---|---|---|');
  const row = (what: string, f: Feeding) =>
    console.log(
      `| ${what} | ${mean(f).toFixed(2)} (${rates
        .get(f)!
        .map((x) => x.toFixed(2))
        .join(', ')}) | ${((100 * mean(f)) / bare).toFixed(0)}% |`,
    );
  row("pre-made (the step's limit)", 'premade');
  row('the data loader, decoding every sample (cache off)', 'off');
  row('the data loader, images cached in RAM (the default)', 'ram');
}

if (args[0] === 'throughput-one') {
  // A child of `throughput`: the sample exists.
  try {
    console.log(`images/s ${await throughputOf(args[1] as Feeding, overrides(flag('--set')))}`);
  } finally {
    await session.dispose();
  }
} else {
  fs.rmSync(DATA, { recursive: true, force: true });
  fs.mkdirSync(DATA, { recursive: true });
  try {
    const made = await call(session, 'sample.create', { dir: sampleDir, seed: 0, open: true, sizes });
    await session.jobs.wait(made.jobId);
    if (args[0] === 'throughput') await throughput();
    else await curve(Number(args[0] ?? 8), overrides(flag('--set')));
  } finally {
    await session.dispose();
  }
}
