/**
 * Pins the losses of 20 training steps (issue "training steps faster than PyTorch's"): a YOLO11n detector, the
 * in-graph YOLO loss on fixed images and boxes, gradient clipping, AdamW and the EMA, as the trainer runs them.
 * A rewrite of the engine (fusing ops, another backward formulation, session options) must give the same losses
 * to float32 tolerance: 1e-4 relative per step and per term, which reordered float32 sums stay well inside
 * over 20 AdamW steps, while a wrong gradient moves the losses by far more within a few steps.
 * `STARLING_PIN=1 npx vitest run tests/integration/step-losses-pinned.test.ts` rewrites
 * tests/fixtures/step-losses-pinned.json (only when the model, the loss or the optimizer change on purpose).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedInit } from '../../src-main/engine/nn.js';
import { AdamW, clipGradNorm, EMA, paramGroups } from '../../src-main/engine/optim.js';
import { TrainStep } from '../../src-main/engine/train-step.js';
import type { Detector } from '../../src-main/models/detector.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Runner } from '../../src-main/runtime/session.js';
import { objectiveFor } from '../../src-main/train/objectives/index.js';
import { MAX_BOXES } from '../../src-main/train/objectives/yolo.js';
import { Rng } from '../../src-main/util/random.js';

const PINNED = path.join(import.meta.dirname, '../fixtures/step-losses-pinned.json');
const IMGSZ = 64;
const BATCH = 4;
const STEPS = 20;

interface Pinned {
  losses: number[];
  terms: Record<string, number>[];
}

async function twentySteps(): Promise<Pinned> {
  seedInit('step-losses-pinned');
  const model = buildDetector({ model: 'yolo11', scale: 'n', backbone: 'shufflenetv2_x0_5', head: 'yolo', nc: 3 });
  const rng = new Rng('step-losses-pinned-data');
  const images = Float32Array.from({ length: BATCH * 3 * IMGSZ * IMGSZ }, () => rng.float());
  const targets = new Float32Array(BATCH * MAX_BOXES * 6);
  for (let i = 0; i < BATCH; i++)
    for (let j = 0; j < 3; j++) {
      const [x, y, w, h] = [rng.range(0, 40), rng.range(0, 40), rng.range(8, 24), rng.range(8, 24)];
      targets.set([(i + j) % 3, x, y, x + w, y + h, 1], (i * MAX_BOXES + j) * 6);
    }
  const feeds = {
    images: { dtype: 'float32' as const, shape: [BATCH, 3, IMGSZ, IMGSZ], data: images },
    targets: { dtype: 'float32' as const, shape: [BATCH, MAX_BOXES, 6], data: targets },
  };
  const runner = new Runner({ device: 'cpu', intraOpThreads: 1 });
  const objective = objectiveFor(model, { imgsz: IMGSZ });
  const step = new TrainStep(runner, model, (g, m, b) =>
    objective.loss(g, m as Detector, g.input('images', [b, 3, IMGSZ, IMGSZ]), b),
  );
  const opt = new AdamW(paramGroups(model, { lr: 0.002, weightDecay: 0.0005, momentum: 0.9 }));
  const ema = new EMA(model, 0.9999, 2000);
  const out: Pinned = { losses: [], terms: [] };
  try {
    for (let s = 0; s < STEPS; s++) {
      const r = await step.run(BATCH, feeds);
      out.losses.push(r.loss);
      out.terms.push(r.terms);
      clipGradNorm(r.grads, 10);
      opt.update(r.grads);
      ema.update();
    }
  } finally {
    await runner.dispose();
  }
  return out;
}

describe('20 training steps', () => {
  it('give the pinned losses and loss terms to float32 tolerance', async () => {
    const got = await twentySteps();
    // The weights move every step (the pins are of steps that update, not of one loss repeated). The YOLO loss
    // rises at first from an untrained model: its targets are scaled by the alignment, which grows as it learns.
    expect(got.losses.every(Number.isFinite)).toBe(true);
    expect(new Set(got.losses).size).toBe(STEPS);
    if (process.env.STARLING_PIN) fs.writeFileSync(PINNED, `${JSON.stringify(got, null, 1)}\n`);
    const pinned = JSON.parse(fs.readFileSync(PINNED, 'utf8')) as Pinned;
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(Math.abs(b), 1e-3);
    got.losses.forEach((l, i) =>
      expect(close(l, pinned.losses[i]!), `step ${i}: ${l} vs ${pinned.losses[i]}`).toBe(true),
    );
    got.terms.forEach((t, i) => {
      expect(Object.keys(t).sort()).toEqual(Object.keys(pinned.terms[i]!).sort());
      for (const [k, v] of Object.entries(t))
        expect(close(v, pinned.terms[i]![k]!), `step ${i} ${k}: ${v} vs ${pinned.terms[i]![k]}`).toBe(true);
    });
  }, 120_000);
});
