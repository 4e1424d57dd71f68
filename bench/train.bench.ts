/**
 * Training-speed benchmark (issues "one-click training" and "training steps faster than PyTorch's"): training
 * images/s of the YOLO11n detector with three backbones (StarNet s050, ShuffleNetV2 x1.0, MobileNetV3-Small) at
 * imgsz 320, batch 16, 2 threads, against the same architecture in PyTorch (Debian python3-torch;
 * bench/reference/torch_yolo11.py loads Starling's state dict strictly, so names and shapes, hence the
 * architecture, are the same), side by side in one run. Two comparisons per backbone:
 *   - simple: forward + backward of a simple loss on the head maps (sum of mean squares): the engine's ratio;
 *   - full:   the whole training step: forward, the YOLO loss with task-aligned assignment (PyTorch:
 *             bench/reference/torch_yolo_loss.py, the same loss written as Ultralytics writes it), backward,
 *             gradient clipping, the AdamW update and the EMA update.
 * Each case runs in its own process on each side, so its peak RSS is its own. The first step's loss and
 * gradients of the two sides are compared (same weights, batch and targets): the same loss, not only the same
 * network.
 *
 *   npm run bench:train              (5 timed steps per case)
 *   npm run bench:train -- 10        (more)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint, saveCheckpoint, type StoredTensor } from '../src-main/engine/checkpoint.js';
import * as F from '../src-main/engine/functional.js';
import { seedInit } from '../src-main/engine/nn.js';
import { AdamW, clipGradNorm, EMA, paramGroups } from '../src-main/engine/optim.js';
import { TrainStep } from '../src-main/engine/train-step.js';
import type { Detector } from '../src-main/models/detector.js';
import type { Detect } from '../src-main/models/heads/detect.js';
import { buildDetector } from '../src-main/models/zoo.js';
import { Runner } from '../src-main/runtime/session.js';
import { objectiveFor } from '../src-main/train/objectives/index.js';
import { boxBucket } from '../src-main/train/objectives/yolo.js';
import { Rng } from '../src-main/util/random.js';
import { medianMs } from './timing.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'train');
const BACKBONES = ['starnet_s050', 'shufflenetv2_x1_0', 'mobilenetv3_small'];
const LOSSES = ['simple', 'full'] as const;
type LossKind = (typeof LOSSES)[number];
const IMGSZ = 320;
const BATCH = 16;
const THREADS = 2;
/** The optimizer both sides run in the full step (the trainer's defaults for AdamW; a fixed LR). */
const OPT = { lr: 0.001, weightDecay: 0.0005, momentum: 0.9, clipNorm: 10, emaDecay: 0.9999, emaTau: 2000 };

interface CaseResult {
  medianMs: number;
  loss: number;
  params: number;
  peakRssMb: number;
}

/** Boxes per image in the benchmark's batch. */
const BOXES = 8;

/**
 * One case on Starling's side, in this (child) process: writes the shared inputs and its first-step gradients.
 * The targets are padded to `rows` boxes per image: by default the bucket the trainer picks for the batch.
 */
async function starlingCase(
  backbone: string,
  kind: LossKind,
  iters: number,
  rows = boxBucket(BOXES),
): Promise<CaseResult> {
  seedInit(`bench-train-${backbone}`);
  const model = buildDetector({ model: 'yolo11', scale: 'n', backbone, head: 'yolo', nc: 6 });
  const params = [...model.parameters()].reduce((a, p) => a + p.data.length, 0);
  const rng = new Rng('bench-train-input');
  const shape = [BATCH, 3, IMGSZ, IMGSZ];
  const input = Float32Array.from({ length: BATCH * 3 * IMGSZ * IMGSZ }, () => rng.float());
  const targets = new Float32Array(BATCH * rows * 6);
  for (let i = 0; i < BATCH; i++)
    for (let j = 0; j < BOXES; j++) {
      const [x, y, w, h] = [rng.range(0, 250), rng.range(0, 250), rng.range(8, 70), rng.range(8, 70)];
      targets.set([j % 6, x, y, x + w, y + h, 1], (i * rows + j) * 6);
    }
  const tensors = new Map<string, StoredTensor>([
    ['input', { shape, data: input }],
    ['targets', { shape: [BATCH, rows, 6], data: targets }],
  ]);
  for (const [n, p] of model.namedTensors()) tensors.set(n, { shape: [...p.shape], data: Float32Array.from(p.data) });
  saveCheckpoint(path.join(DATA, `${backbone}.weights.safetensors`), { tensors, metadata: {} });

  const runner = new Runner({ device: 'cpu', intraOpThreads: THREADS });
  const feeds = {
    images: { dtype: 'float32' as const, shape, data: input },
    targets: { dtype: 'float32' as const, shape: [BATCH, rows, 6], data: targets },
  };
  const objective = objectiveFor(model, { imgsz: IMGSZ });
  const step = new TrainStep(
    runner,
    model,
    (g, m, b) => {
      const d = m as Detector;
      const images = g.input('images', [b, 3, IMGSZ, IMGSZ]);
      if (kind === 'full') return objective.loss(g, d, images, b, { boxes: rows });
      const levels = (d.head as Detect).levels(d.features(images));
      return { loss: levels.map((y) => F.mean(F.mul(y, y))).reduce((a, y) => F.add(a, y)) };
    },
    `train-${kind}`,
  );
  const first = await step.run(BATCH, feeds);
  const grads = new Map<string, StoredTensor>();
  for (const [p, g] of first.grads) grads.set(p.name, { shape: [...p.shape], data: Float32Array.from(g) });
  saveCheckpoint(path.join(DATA, `${backbone}.${kind}.starling-grads.safetensors`), { tensors: grads, metadata: {} });

  let run: () => Promise<unknown> = () => step.run(BATCH, feeds);
  if (kind === 'full') {
    const opt = new AdamW(paramGroups(model, OPT));
    const ema = new EMA(model, OPT.emaDecay, OPT.emaTau);
    run = async () => {
      const r = await step.run(BATCH, feeds);
      clipGradNorm(r.grads, OPT.clipNorm);
      opt.update(r.grads);
      ema.update();
    };
  }
  const ms = await medianMs(run, iters);
  await runner.dispose();
  return { medianMs: ms, loss: first.loss, params, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

/** The largest difference between the two sides' gradients, relative to the largest PyTorch gradient. */
function gradDiff(backbone: string, kind: LossKind): number {
  const ours = loadCheckpoint(path.join(DATA, `${backbone}.${kind}.starling-grads.safetensors`)).tensors;
  const theirs = loadCheckpoint(path.join(DATA, `${backbone}.${kind}.torch-grads.safetensors`)).tensors;
  let maxAbs = 0;
  let scale = 0;
  for (const [k, t] of ours) {
    const r = theirs.get(k);
    if (!r) continue; // fixed tensors (the DFL bins) have no gradient in PyTorch
    for (let i = 0; i < t.data.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(t.data[i]! - r.data[i]!));
      scale = Math.max(scale, Math.abs(r.data[i]!));
    }
  }
  return maxAbs / scale;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--case') {
    const [backbone, kind, iters, rows] = process.argv.slice(3) as [string, LossKind, string, string?];
    console.log(JSON.stringify(await starlingCase(backbone, kind, Number(iters), rows ? Number(rows) : undefined)));
    return;
  }
  const iters = Number(process.argv[2] ?? 5);
  fs.mkdirSync(DATA, { recursive: true });
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const rows: string[] = [];
  for (const backbone of BACKBONES)
    for (const kind of LOSSES) {
      const ours = JSON.parse(
        execFileSync(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', backbone, kind, String(iters)],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        ).trim(),
      ) as CaseResult;
      const theirs = JSON.parse(
        execFileSync(
          '/usr/bin/python3',
          [
            path.join(HERE, 'reference', 'torch_yolo11.py'),
            backbone,
            path.join(DATA, `${backbone}.weights.safetensors`),
            path.join(DATA, `${backbone}.${kind}.torch-grads.safetensors`),
            String(iters),
            String(THREADS),
            kind,
            JSON.stringify(OPT),
          ],
          { encoding: 'utf8', cwd: path.join(HERE, 'reference') },
        ),
      ) as { median_ms: number; params: number; loss: number; peak_rss_mb: number; torch: string };
      if (theirs.params !== ours.params)
        throw new Error(`${backbone}: PyTorch has ${theirs.params} parameters, Starling ${ours.params}`);
      const ips = (ms: number) => ((BATCH * 1000) / ms).toFixed(1);
      const lossRel = Math.abs(ours.loss - theirs.loss) / Math.abs(theirs.loss);
      rows.push(
        `| ${backbone} | ${kind} | ${ips(ours.medianMs)} | ${ips(theirs.median_ms)} | ` +
          `**${(theirs.median_ms / ours.medianMs).toFixed(2)}x** | ${ours.peakRssMb.toFixed(0)} | ` +
          `${theirs.peak_rss_mb.toFixed(0)} | ${lossRel.toExponential(1)} | ${gradDiff(backbone, kind).toExponential(1)} |`,
      );
      console.log(
        `${backbone} ${kind}: Starling ${ours.medianMs.toFixed(0)} ms (${ours.peakRssMb.toFixed(0)} MB), PyTorch ` +
          `${theirs.median_ms.toFixed(0)} ms (${theirs.peak_rss_mb.toFixed(0)} MB, torch ${theirs.torch}); loss ` +
          `${ours.loss.toFixed(4)} vs ${theirs.loss.toFixed(4)}`,
      );
    }
  console.log(
    `\ntraining speed on ${cpu} (${os.cpus().length} cores): YOLO11n detectors, imgsz ${IMGSZ}, batch ${BATCH}, ` +
      `${THREADS} threads, median of ${iters} steps; full = forward, YOLO loss, backward, clip, AdamW, EMA`,
  );
  console.log(
    '| backbone | step | Starling img/s | PyTorch img/s | speed vs PyTorch | Starling peak RSS (MB) | PyTorch peak RSS (MB) | loss diff (rel) | max grad diff (rel) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
