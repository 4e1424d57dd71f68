/**
 * Training-speed benchmark (issue "one-click training"): training images/s of the YOLO11n detector with three
 * backbones (StarNet s050, ShuffleNetV2 x1.0, MobileNetV3-Small) at imgsz 320, batch 16, against the same
 * architecture in PyTorch (Debian python3-torch; bench/reference/torch_yolo11.py loads Starling's state dict
 * strictly, so names and shapes, hence the architecture, are the same), 2 threads each, in the same run.
 * Both sides time forward + backward of a simple loss on the head maps (sum of mean squares), so the ratio is
 * the engine's; Starling's full step with the in-graph YOLO loss (assignment, BCE, CIoU, DFL) is timed too.
 *
 *   npm run bench:train              (5 timed steps per case)
 *   npm run bench:train -- 10        (more)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint, saveCheckpoint, type StoredTensor } from '../src-main/engine/checkpoint.js';
import * as F from '../src-main/engine/functional.js';
import { seedInit } from '../src-main/engine/nn.js';
import { TrainStep } from '../src-main/engine/train-step.js';
import type { Detector } from '../src-main/models/detector.js';
import { buildDetector } from '../src-main/models/zoo.js';
import { Runner } from '../src-main/runtime/session.js';
import type { Detect } from '../src-main/models/heads/detect.js';
import { objectiveFor } from '../src-main/train/objectives/index.js';
import { MAX_BOXES } from '../src-main/train/objectives/yolo.js';
import { Rng } from '../src-main/util/random.js';
import { medianMs } from './timing.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'train');
const BACKBONES = ['starnet_s050', 'shufflenetv2_x1_0', 'mobilenetv3_small'];
const IMGSZ = 320;
const BATCH = 16;
const THREADS = 2;
const ITERS = Number(process.argv[2] ?? 5);

fs.mkdirSync(DATA, { recursive: true });
const rows: string[] = [];
for (const backbone of BACKBONES) {
  seedInit(`bench-train-${backbone}`);
  const model = buildDetector({ model: 'yolo11', scale: 'n', backbone, head: 'yolo', nc: 6 });
  const params = [...model.parameters()].reduce((a, p) => a + p.data.length, 0);
  const rng = new Rng('bench-train-input');
  const shape = [BATCH, 3, IMGSZ, IMGSZ];
  const input = Float32Array.from({ length: BATCH * 3 * IMGSZ * IMGSZ }, () => rng.float());
  const tensors = new Map<string, StoredTensor>([['input', { shape, data: input }]]);
  for (const [n, p] of model.namedTensors()) tensors.set(n, { shape: [...p.shape], data: Float32Array.from(p.data) });
  const weights = path.join(DATA, `${backbone}.weights.safetensors`);
  saveCheckpoint(weights, { tensors, metadata: {} });

  // Starling: forward + backward of the same simple loss, as one ONNX graph on onnxruntime.
  const runner = new Runner({ device: 'cpu', intraOpThreads: THREADS });
  const simple = new TrainStep(runner, model, (g, m, b) => {
    const d = m as Detector;
    const levels = (d.head as Detect).levels(d.features(g.input('images', [b, 3, IMGSZ, IMGSZ])));
    return { loss: levels.map((y) => F.mean(F.mul(y, y))).reduce((a, y) => F.add(a, y)) };
  });
  const feeds = { images: { dtype: 'float32' as const, shape, data: input } };
  const first = await simple.run(BATCH, feeds);
  const grads = new Map<string, StoredTensor>();
  for (const [p, g] of first.grads) grads.set(p.name, { shape: [...p.shape], data: Float32Array.from(g) });
  const starlingMs = await medianMs(() => simple.run(BATCH, feeds), ITERS);

  // Starling's real training step: the same network with the in-graph YOLO loss and 8 boxes per image.
  const objective = objectiveFor(model, { imgsz: IMGSZ });
  const full = new TrainStep(
    runner,
    model,
    (g, m, b) => objective.loss(g, m as Detector, g.input('images', [b, 3, IMGSZ, IMGSZ]), b),
    'train-full',
  );
  const targets = new Float32Array(BATCH * MAX_BOXES * 6);
  for (let i = 0; i < BATCH; i++)
    for (let j = 0; j < 8; j++) {
      const [x, y, w, h] = [rng.range(0, 250), rng.range(0, 250), rng.range(8, 70), rng.range(8, 70)];
      targets.set([j % 6, x, y, x + w, y + h, 1], (i * MAX_BOXES + j) * 6);
    }
  const fullFeeds = { ...feeds, targets: { dtype: 'float32' as const, shape: [BATCH, MAX_BOXES, 6], data: targets } };
  const fullMs = await medianMs(() => full.run(BATCH, fullFeeds), ITERS);
  await runner.dispose();

  const torchGrads = path.join(DATA, `${backbone}.torch-grads.safetensors`);
  const ref = JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [path.join(HERE, 'reference', 'torch_yolo11.py'), backbone, weights, torchGrads, String(ITERS), String(THREADS)],
      { encoding: 'utf8', cwd: path.join(HERE, 'reference') },
    ),
  ) as { median_ms: number; params: number; torch: string };
  if (ref.params !== params) throw new Error(`${backbone}: PyTorch has ${ref.params} parameters, Starling ${params}`);
  const theirs = loadCheckpoint(torchGrads).tensors;
  let maxAbs = 0;
  let scale = 0;
  for (const [k, t] of grads) {
    const r = theirs.get(k);
    if (!r) continue; // fixed tensors (the DFL bins) have no gradient in PyTorch
    for (let i = 0; i < t.data.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(t.data[i]! - r.data[i]!));
      scale = Math.max(scale, Math.abs(r.data[i]!));
    }
  }
  const ips = (ms: number) => ((BATCH * 1000) / ms).toFixed(1);
  rows.push(
    `| ${backbone} | ${(params / 1e6).toFixed(3)}M | ${ips(starlingMs)} | ${ips(ref.median_ms)} | ` +
      `${(ref.median_ms / starlingMs).toFixed(2)}x | ${ips(fullMs)} | ${(maxAbs / scale).toExponential(1)} |`,
  );
  console.log(
    `${backbone}: Starling ${starlingMs.toFixed(0)} ms, PyTorch ${ref.median_ms.toFixed(0)} ms (torch ${ref.torch})`,
  );
}
console.log(
  `\ntraining speed: YOLO11n detectors, imgsz ${IMGSZ}, batch ${BATCH}, ${THREADS} threads, median of ${ITERS} steps`,
);
console.log(
  '| backbone | params | Starling img/s | PyTorch img/s | speed vs PyTorch | Starling img/s with YOLO loss | max grad diff (rel) |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
