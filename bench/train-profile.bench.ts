/**
 * Where a training step's time goes (issue "training steps faster than PyTorch's", profile first): for the YOLO11n
 * detectors of `bench:train` (imgsz 320, batch 16, 2 threads), the median time of
 * - the forward graph alone (training-mode BatchNorm, the head's maps as outputs),
 * - forward + the in-graph YOLO loss (assignment, BCE, CIoU, DFL), no backward,
 * - the whole step graph (forward + loss + backward, every gradient an output), through the Runner as training
 *   runs it (feeds built from the parameters every step),
 * - the JS side between steps: gradient clipping, the AdamW update and the EMA update;
 * so backward = step - (forward + loss) and loss = (forward + loss) - forward. Then onnxruntime's profiler on the
 * step graph: kernel time by op type, and by part (forward, loss, backward: the node's index in the emitted graph,
 * which follows the IR's order, against the node counts of the forward and forward + loss graphs).
 *
 *   npm run bench:profile            (5 timed steps per case)
 *   npm run bench:profile -- 3 starnet_s050
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { Graph, type Tensor } from '../src-main/engine/ir.js';
import { seedInit } from '../src-main/engine/nn.js';
import { encodeModel } from '../src-main/engine/onnx-writer.js';
import { AdamW, EMA, clipGradNorm, paramGroups } from '../src-main/engine/optim.js';
import { TrainStep } from '../src-main/engine/train-step.js';
import type { Detector } from '../src-main/models/detector.js';
import type { Detect } from '../src-main/models/heads/detect.js';
import { buildDetector } from '../src-main/models/zoo.js';
import { Runner, toOrtTensor, type Feed } from '../src-main/runtime/session.js';
import { objectiveFor } from '../src-main/train/objectives/index.js';
import { MAX_BOXES } from '../src-main/train/objectives/yolo.js';
import { syntheticBatch } from './synthetic-batch.js';
import { medianMs } from './timing.js';

const ITERS = Number(process.argv[2] ?? 5);
const BACKBONES = process.argv[3] ? [process.argv[3]] : ['starnet_s050', 'shufflenetv2_x1_0', 'mobilenetv3_small'];
const IMGSZ = 320;
const BATCH = 16;
const THREADS = 2;

/** A graph of the model's forward (and optionally its loss), its parameters fed as inputs as the step does. */
function partialGraph(model: Detector, withLoss: boolean) {
  const g = new Graph();
  model.train(true);
  const images = g.input('images', [BATCH, 3, IMGSZ, IMGSZ]);
  let outputs: Record<string, Tensor>;
  if (withLoss) {
    const r = objectiveFor(model, { imgsz: IMGSZ }).loss(g, model, images, BATCH);
    outputs = { loss: r.loss };
  } else {
    const levels = (model.head as Detect).levels(model.features(images));
    outputs = Object.fromEntries(levels.map((y, i) => [`y${i}`, y]));
  }
  return encodeModel({ graph: g, outputs, name: withLoss ? 'forward-loss' : 'forward' });
}

/** Nodes in an emitted graph (named `<OpType>_<index>` in emission order, which follows the IR's). */
const nodeCount = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph?.node?.length ?? 0;

const rows: string[] = [];
const opRows: string[] = [];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
for (const backbone of BACKBONES) {
  seedInit(`bench-train-${backbone}`);
  const model = buildDetector({ model: 'yolo11', scale: 'n', backbone, head: 'yolo', nc: 6 });
  const { images: input, targets } = syntheticBatch(BATCH, IMGSZ, MAX_BOXES);
  const batchFeeds: Record<string, Feed> = {
    images: { dtype: 'float32', shape: [BATCH, 3, IMGSZ, IMGSZ], data: input },
    targets: { dtype: 'float32', shape: [BATCH, MAX_BOXES, 6], data: targets },
  };
  const runner = new Runner({ device: 'cpu', intraOpThreads: THREADS });
  const tensors = new Map(model.namedTensors());
  const feedsFor = (inputs: readonly string[]) =>
    Object.fromEntries(
      inputs.map((k) => {
        if (batchFeeds[k]) return [k, batchFeeds[k]!];
        const p = tensors.get(k)!;
        return [k, { dtype: 'float32', shape: p.shape, data: p.data } satisfies Feed];
      }),
    );

  const fwd = partialGraph(model, false);
  const fwdLoss = partialGraph(model, true);
  const fwdMs = await medianMs(() => runner.run('forward', () => fwd.bytes, feedsFor(fwd.inputs)), ITERS);
  const lossMs = await medianMs(() => runner.run('forward-loss', () => fwdLoss.bytes, feedsFor(fwdLoss.inputs)), ITERS);

  const objective = objectiveFor(model, { imgsz: IMGSZ });
  const step = new TrainStep(runner, model, (g, m, b) =>
    objective.loss(g, m as Detector, g.input('images', [b, 3, IMGSZ, IMGSZ]), b),
  );
  let grads = (await step.run(BATCH, batchFeeds)).grads;
  const stepMs = await medianMs(async () => (grads = (await step.run(BATCH, batchFeeds)).grads), ITERS);

  const opt = new AdamW(paramGroups(model, { lr: 0.001, weightDecay: 0.0005, momentum: 0.937 }));
  const ema = new EMA(model);
  const clipMs = await medianMs(() => clipGradNorm(grads, 10), ITERS);
  const optMs = await medianMs(() => opt.update(grads), ITERS);
  const emaMs = await medianMs(() => ema.update(), ITERS);
  await runner.dispose();

  // onnxruntime's profiler on the step graph, fed as the Runner feeds it.
  const stepBytes = step.onnx(BATCH);
  const prefix = path.join(os.tmpdir(), `starling-profile-${backbone}`);
  const session = await ort.InferenceSession.create(stepBytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const ortFeeds = Object.fromEntries(
    Object.entries(feedsFor(session.inputNames)).map(([k, f]) => [k, toOrtTensor(f)]),
  );
  for (let i = 0; i < 3; i++) await session.run(ortFeeds);
  session.endProfiling();
  await session.release();
  // onnxruntime-node writes `<prefix>_<timestamp>.json` and does not return the name.
  const profileFile = fs
    .readdirSync(os.tmpdir())
    .filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json'))
    .map((f) => path.join(os.tmpdir(), f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
  const events = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  fs.rmSync(profileFile, { force: true });
  const nF = nodeCount(fwd.bytes);
  const nL = nodeCount(fwdLoss.bytes);
  const byOp = new Map<string, number>();
  const byPart = { forward: 0, loss: 0, backward: 0, other: 0 };
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
    const m = /^[A-Za-z]+_(\d+)/.exec(e.name);
    const k = m ? Number(m[1]) : -1;
    if (k < 0) byPart.other += e.dur;
    else if (k < nF) byPart.forward += e.dur;
    else if (k < nL) byPart.loss += e.dur;
    else byPart.backward += e.dur;
  }
  const share = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const ms = (x: number) => x.toFixed(1);
  const js = clipMs + optMs + emaMs;
  rows.push(
    `| ${backbone} | ${ms(stepMs + js)} | ${ms(fwdMs)} | ${ms(lossMs - fwdMs)} | ${ms(stepMs - lossMs)} | ` +
      `${ms(clipMs)} / ${ms(optMs)} / ${ms(emaMs)} | ${((BATCH * 1000) / (stepMs + js)).toFixed(1)} | ` +
      `${share(byPart.forward)} / ${share(byPart.loss)} / ${share(byPart.backward)}${byPart.other ? ` (+${share(byPart.other)} fused)` : ''} |`,
  );
  const top = [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 12);
  opRows.push(`| ${backbone} | ${top.map(([op, us]) => `${op} ${share(us)}`).join(', ')} |`);
  console.log(`${backbone}: step ${ms(stepMs)} ms + JS ${ms(js)} ms; profile ${(total / 3000).toFixed(0)} ms per run`);
}
console.log(`\n${cpu}, imgsz ${IMGSZ}, batch ${BATCH}, ${THREADS} threads, median of ${ITERS}; ms per step`);
console.log(
  '| backbone | step incl. JS | forward | loss | backward | JS: clip / AdamW / EMA | img/s | kernel time forward / loss / backward |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('\nkernel time by op type (onnxruntime profiler, the step graph, 3 runs)');
console.log('| backbone | op types, share of kernel time |');
console.log('|---|---|');
for (const r of opRows) console.log(r);
