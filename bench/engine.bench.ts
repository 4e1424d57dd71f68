/**
 * Engine benchmark (issue "training engine"): one training step (forward + loss + backward) of
 *   (a) a StarNet block stack, (b) a ShuffleNetV2 stage, (c) a MobileNetV3 inverted-residual stage with SE and
 *   hard-swish, built from the model zoo's own blocks,
 * run as one ONNX graph on onnxruntime-node, against the same blocks in PyTorch (Debian python3-torch) with the
 * same weights and input, 2 threads each, in the same run. Prints step-time ratio, peak-memory ratio and the
 * largest gradient difference.
 *
 *   npm run bench:engine            (20 timed steps per case)
 *   npm run bench:engine -- 50      (more steps)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { loadCheckpoint, saveCheckpoint, type StoredTensor } from '../src-main/engine/checkpoint.js';
import * as F from '../src-main/engine/functional.js';
import { Sequential, nameModules, seedInit, type Module } from '../src-main/engine/nn.js';
import { TrainStep } from '../src-main/engine/train-step.js';
import { Runner } from '../src-main/runtime/session.js';
import { Rng } from '../src-main/util/random.js';
import { InvertedResidual as MBv3Block } from '../src-main/models/backbones/mobilenetv3.js';
import { InvertedResidual as ShuffleUnit } from '../src-main/models/backbones/shufflenetv2.js';
import { StarBlock } from '../src-main/models/backbones/starnet.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data');
const THREADS = 2;
const PYTHON = '/usr/bin/python3';

const CASES: Record<string, { input: number[]; build: () => Module }> = {
  starnet: { input: [8, 48, 40, 40], build: () => new Sequential(new StarBlock(48, 4), new StarBlock(48, 4)) },
  shufflenetv2: {
    input: [8, 24, 80, 80],
    build: () =>
      new Sequential(
        new ShuffleUnit(24, 116, 2),
        new ShuffleUnit(116, 116, 1),
        new ShuffleUnit(116, 116, 1),
        new ShuffleUnit(116, 116, 1),
      ),
  },
  mobilenetv3: {
    input: [8, 80, 20, 20],
    build: () =>
      new Sequential(
        new MBv3Block([80, 3, 480, 112, true, 'HS', 1]),
        new MBv3Block([112, 3, 672, 112, true, 'HS', 1]),
        new MBv3Block([112, 5, 672, 160, true, 'HS', 2]),
      ),
  },
};

interface Timing {
  loss: number;
  median_ms: number;
  min_ms: number;
  peak_rss_mb: number;
}

/** Child mode: the Starling side of one case, in its own process so its peak memory is its own. */
async function runStarling(name: string, iters: number): Promise<Timing> {
  const c = CASES[name]!;
  seedInit(`bench-${name}`);
  const model = nameModules(c.build());
  const rng = new Rng('bench-input', name);
  const input = Float32Array.from({ length: c.input.reduce((a, b) => a * b, 1) }, () => rng.normal());
  const tensors = new Map<string, StoredTensor>([['input', { shape: c.input, data: input }]]);
  for (const [n, p] of model.namedTensors()) tensors.set(n, { shape: [...p.shape], data: Float32Array.from(p.data) });
  fs.mkdirSync(DATA, { recursive: true });
  saveCheckpoint(path.join(DATA, `${name}.weights.safetensors`), { tensors, metadata: {} });

  const runner = new Runner({ device: 'cpu', intraOpThreads: THREADS });
  const step = new TrainStep(runner, model, (g, m, batch) => {
    const y = m.forward(g.input('input', [batch, ...c.input.slice(1)]));
    return { loss: F.mean(F.mul(y, y)) };
  });
  const feeds = { input: { dtype: 'float32' as const, shape: c.input, data: input } };
  const first = await step.run(c.input[0]!, feeds);
  const grads = new Map<string, StoredTensor>();
  for (const [p, g] of first.grads) grads.set(p.name, { shape: [...p.shape], data: Float32Array.from(g) });
  saveCheckpoint(path.join(DATA, `${name}.starling-grads.safetensors`), { tensors: grads, metadata: {} });
  for (let i = 0; i < 3; i++) await step.run(c.input[0]!, feeds);
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    await step.run(c.input[0]!, feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  await runner.dispose();
  return {
    loss: first.loss,
    median_ms: times[times.length >> 1]!,
    min_ms: times[0]!,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
}

function maxGradDiff(name: string): { abs: number; rel: number; worst: string } {
  const a = loadCheckpoint(path.join(DATA, `${name}.starling-grads.safetensors`)).tensors;
  const b = loadCheckpoint(path.join(DATA, `${name}.torch-grads.safetensors`)).tensors;
  let abs = 0;
  let scale = 0;
  let worst = '';
  for (const [k, t] of a) {
    const r = b.get(k);
    if (!r) throw new Error(`PyTorch has no gradient for ${k}`);
    for (let i = 0; i < t.data.length; i++) {
      const d = Math.abs(t.data[i]! - r.data[i]!);
      if (d > abs) {
        abs = d;
        worst = k;
      }
      scale = Math.max(scale, Math.abs(r.data[i]!));
    }
  }
  return { abs, rel: abs / scale, worst };
}

/** `--profile CASE`: onnxruntime's per-op profile of the train step, summed by op type (where the time goes). */
async function profile(name: string): Promise<void> {
  const c = CASES[name]!;
  seedInit(`bench-${name}`);
  const model = nameModules(c.build());
  const step = new TrainStep(new Runner({ device: 'cpu' }), model, (g, m, batch) => {
    const y = m.forward(g.input('input', [batch, ...c.input.slice(1)]));
    return { loss: F.mean(F.mul(y, y)) };
  });
  const bytes = step.onnx(c.input[0]!);
  fs.mkdirSync(DATA, { recursive: true });
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: THREADS,
    enableProfiling: true,
    profileFilePrefix: path.join(DATA, `profile-${name}`),
  });
  const feeds: Record<string, ort.Tensor> = {};
  const rng = new Rng('bench-input', name);
  for (const inp of session.inputNames) {
    const p = [...model.namedTensors()].find(([n]) => n === inp)?.[1];
    feeds[inp] = p
      ? new ort.Tensor('float32', p.data, [...p.shape])
      : new ort.Tensor(
          'float32',
          Float32Array.from({ length: c.input.reduce((a, b) => a * b, 1) }, () => rng.normal()),
          c.input,
        );
  }
  for (let i = 0; i < 10; i++) await session.run(feeds);
  (session as unknown as { endProfiling(): void }).endProfiling();
  // The node binding does not return the file name: take the newest profile with our prefix.
  const file = fs
    .readdirSync(DATA)
    .filter((f) => f.startsWith(`profile-${name}_`))
    .map((f) => path.join(DATA, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    cat: string;
    dur: number;
    args?: { op_name?: string };
    name: string;
  }[];
  const byOp = new Map<string, number>();
  for (const e of events)
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time'))
      byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`${name}: onnxruntime kernel time by op type over 10 steps (total ${(total / 1e4).toFixed(1)} ms/step)`);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`  ${op.padEnd(22)} ${(us / 1e4).toFixed(2).padStart(8)} ms/step  ${((100 * us) / total).toFixed(1)}%`);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--profile') return profile(argv[1] ?? 'shufflenetv2');
  if (argv[0] === '--case') {
    process.stdout.write(JSON.stringify(await runStarling(argv[1]!, Number(argv[2]))) + '\n');
    return;
  }
  const iters = Number(argv[0] ?? 20);
  const rows: string[] = [];
  for (const name of Object.keys(CASES)) {
    const self = fileURLToPath(import.meta.url);
    const st = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', self, '--case', name, String(iters)], { encoding: 'utf8' }),
    ) as Timing;
    const pt = JSON.parse(
      execFileSync(
        PYTHON,
        [
          path.join(HERE, 'reference', 'torch_blocks.py'),
          name,
          path.join(DATA, `${name}.weights.safetensors`),
          path.join(DATA, `${name}.torch-grads.safetensors`),
          String(iters),
          String(THREADS),
        ],
        { encoding: 'utf8' },
      ),
    ) as Timing & { torch: string };
    const diff = maxGradDiff(name);
    rows.push(
      `| ${name} | ${st.median_ms.toFixed(1)} | ${pt.median_ms.toFixed(1)} | **${(st.median_ms / pt.median_ms).toFixed(2)}x** | ` +
        `${st.peak_rss_mb.toFixed(0)} / ${pt.peak_rss_mb.toFixed(0)} | ${(st.peak_rss_mb / pt.peak_rss_mb).toFixed(2)}x | ` +
        `${diff.abs.toExponential(1)} (${diff.rel.toExponential(1)} rel, ${diff.worst}) | ${Math.abs(st.loss - pt.loss).toExponential(1)} |`,
    );
    process.stderr.write(`${name}: done (torch ${pt.torch})\n`);
  }
  console.log(`engine benchmark: one training step, batch 8, ${THREADS} threads each, median of ${iters} steps`);
  console.log(
    '| case | Starling ms | PyTorch ms | time ratio | peak RSS MB (Starling / PyTorch) | memory ratio | max grad diff | loss diff |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
