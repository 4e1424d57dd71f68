/**
 * An A/B of the training step graph between this checkout and another one (an engine change against the code
 * before it): both build the `bench:profile` step (YOLO11n, the YOLO loss, imgsz 320, batch 16, 2 threads) from
 * the same seed in one process, and their sessions run alternately, so the drift of a shared machine falls on both
 * alike. Separate processes moved by +-20% between identical runs here, more than most levers gain. It also says
 * whether the two graphs give the same bits on every output (loss, gradients, running statistics).
 *
 *   git worktree add /tmp/before HEAD~1 && ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   npm run bench:step-ab -- /tmp/before                     (three backbones, 8 timed steps each)
 *   npm run bench:step-ab -- /tmp/before starnet_s050 12
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import type * as Nn from '../src-main/engine/nn.js';
import type * as Step from '../src-main/engine/train-step.js';
import type * as Zoo from '../src-main/models/zoo.js';
import type * as Session from '../src-main/runtime/session.js';
import type * as Objectives from '../src-main/train/objectives/index.js';
import type * as Yolo from '../src-main/train/objectives/yolo.js';
import { syntheticBatch } from './synthetic-batch.js';

const OTHER = process.argv[2];
if (!OTHER) throw new Error('usage: npm run bench:step-ab -- <other checkout> [backbone] [steps]');
const BACKBONES = process.argv[3] ? [process.argv[3]] : ['starnet_s050', 'shufflenetv2_x1_0', 'mobilenetv3_small'];
const STEPS = Number(process.argv[4] ?? 8);
const IMGSZ = 320;
const BATCH = 16;
const THREADS = 2;

/** The step graph's session and feeds, built by the code under `root`. */
async function buildStep(root: string, backbone: string) {
  const load = (m: string): Promise<unknown> => import(path.join(root, 'src-main', m));
  // The other checkout's modules, typed as ours.
  const { seedInit } = (await load('engine/nn.ts')) as typeof Nn;
  const { TrainStep } = (await load('engine/train-step.ts')) as typeof Step;
  const { buildDetector } = (await load('models/zoo.ts')) as typeof Zoo;
  const { Runner, toOrtTensor } = (await load('runtime/session.ts')) as typeof Session;
  const { objectiveFor } = (await load('train/objectives/index.ts')) as typeof Objectives;
  const { MAX_BOXES } = (await load('train/objectives/yolo.ts')) as typeof Yolo;
  seedInit(`bench-train-${backbone}`);
  const model = buildDetector({ model: 'yolo11', scale: 'n', backbone, head: 'yolo', nc: 6 });
  const { images, targets } = syntheticBatch(BATCH, IMGSZ, MAX_BOXES);
  const objective = objectiveFor(model, { imgsz: IMGSZ });
  const runner = new Runner({ device: 'cpu', intraOpThreads: THREADS });
  const step = new TrainStep(runner, model, (g, m, b) =>
    objective.loss(g, m as typeof model, g.input('images', [b, 3, IMGSZ, IMGSZ]), b),
  );
  // That checkout's Runner makes the session with its own options, and without the memory pattern as TrainStep runs it.
  const session = await runner.session('step', () => step.onnx(BATCH), { memPattern: false });
  const params = new Map(model.namedTensors());
  const feeds = Object.fromEntries(
    session.inputNames.map((k) => {
      if (k === 'images') return [k, toOrtTensor({ dtype: 'float32', shape: [BATCH, 3, IMGSZ, IMGSZ], data: images })];
      if (k === 'targets') return [k, toOrtTensor({ dtype: 'float32', shape: [BATCH, MAX_BOXES, 6], data: targets })];
      const p = params.get(k);
      if (!p) throw new Error(`${root}: the step graph asks for "${k}", which the model does not have`);
      return [k, toOrtTensor({ dtype: 'float32', shape: p.shape, data: p.data })];
    }),
  );
  return { runner, session, feeds };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const sameBits = (a: ort.Tensor, b: ort.Tensor) => {
  const [x, y] = [a.data as Float32Array, b.data as Float32Array];
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
};

console.log(
  `this checkout (B) against ${OTHER} (A), ${STEPS} steps each after one warm-up, alternating which runs first`,
);
console.log('| backbone | A median (ms) | B median (ms) | A/B | outputs with the same bits |');
console.log('|---|---|---|---|---|');
for (const backbone of BACKBONES) {
  const a = await buildStep(path.resolve(OTHER), backbone);
  const b = await buildStep(path.resolve('.'), backbone);
  const [ta, tb]: [number[], number[]] = [[], []];
  let [outA, outB] = [await a.session.run(a.feeds), await b.session.run(b.feeds)];
  // Which side runs first alternates, so neither always runs on the caches the other left.
  const timed = async (side: typeof a) => {
    const t = performance.now();
    const out = await side.session.run(side.feeds);
    return { out, ms: performance.now() - t };
  };
  for (let i = 0; i < STEPS; i++)
    for (const side of i % 2 ? [b, a] : [a, b]) {
      const { out, ms } = await timed(side);
      if (side === a) [outA, ta[i]] = [out, ms];
      else [outB, tb[i]] = [out, ms];
    }
  const names = Object.keys(outA);
  const same = names.filter((k) => outB[k] && sameBits(outA[k]!, outB[k])).length;
  await Promise.all([a.runner.dispose(), b.runner.dispose()]);
  const [ma, mb] = [median(ta), median(tb)];
  console.log(
    `| ${backbone} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(ma / mb).toFixed(3)}x | ${same} / ${names.length} |`,
  );
}
