/**
 * `starling demo`: the whole pipeline on the sample project in one command: generate the project if missing,
 * train the default student (StarNet s050 backbone, YOLO11 neck, yolo head) on its labeled train split within a
 * time budget, evaluate the best checkpoint on val and test with the COCO evaluator, export ONNX, predict the
 * test split with the exported file, pseudo-label the unlabeled pool with the exported file as a teacher (scored
 * against the pool's hidden truth, so the teacher path runs too), and print a summary with what to do next.
 */
import fs from 'node:fs';
import path from 'node:path';
import { call } from '../api/dispatch.js';
import type { Session } from '../api/session.js';
import { PROJECT_FILE } from '../store/project.js';
import { predict } from '../inference/predictor.js';
import type { RunEvaluation } from '../eval/run-evaluation.js';
import { follow } from './follow.js';
import { formatSizeHistogram, type SizeHistogram } from '../sample/size-mix.js';

export interface DemoOptions {
  dir: string;
  /** Training budget in minutes (the epoch count is refitted to it after each epoch, and the clock ends the last). */
  minutes: number;
  imgsz: number;
  device: 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
}

/** The demo's student: the default backbone and head. */
export const DEMO_MODEL = { model: 'yolo11', scale: 'n', backbone: 'starnet_s050', head: 'yolo' } as const;

/**
 * The recipe chosen by the 8-minute ablation on this CPU (docs/benchmarks.md, "the demo's recipe"): mosaic on
 * (1.7x the baseline's mAP50 on the COCO-sized sample), closed for the last 3 epochs only (close-mosaic 10 leaves
 * a 20-epoch run half without mosaic); a 3-epoch warmup (one epoch is 30 steps) without Ultralytics' 100-iteration
 * floor; AdamW at 0.004 after that warmup (after a 1-epoch warmup 0.004 did not help and 0.008 learned slower);
 * batch 8 (twice the updates of 16 per image seen); validation every 5 epochs (and on the last).
 */
export const DEMO_RECIPE = {
  data: { batch: 8 },
  augment: { mosaic: 1, closeMosaic: 3 },
  optimizer: { name: 'AdamW', lr0: 0.004, warmupEpochs: 3, warmupMinIters: 0 },
  budget: { valEvery: 5 },
} as const;

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function runDemo(s: Session, o: DemoOptions): Promise<{ runId: number; onnx: string }> {
  const started = Date.now();
  const dir = path.resolve(o.dir);
  const file = path.join(dir, PROJECT_FILE);
  if (!fs.existsSync(file)) {
    say(`[1/6] generating the sample project in ${dir} ...`);
    const { jobId } = await call(s, 'sample.create', { dir, seed: 0, open: false });
    const made = (await follow(s, jobId)).result as { sizes: SizeHistogram };
    for (const line of formatSizeHistogram(made.sizes, '      object sizes: ')) say(line);
  } else say(`[1/6] using the sample project in ${dir}`);
  await call(s, 'project.open', { path: file });

  say(`[2/6] training ${DEMO_MODEL.backbone} / ${DEMO_MODEL.head} for ${o.minutes} min at imgsz ${o.imgsz} ...`);
  const trainStarted = Date.now();
  const { jobId } = await call(s, 'train.start', {
    ...DEMO_RECIPE,
    model: { ...DEMO_MODEL },
    data: { ...DEMO_RECIPE.data, imgsz: o.imgsz },
    // 300 epochs, refitted to the time budget after each epoch; the budget's end stops the run.
    budget: { ...DEMO_RECIPE.budget, epochs: 300, minutes: o.minutes },
    device: o.device,
    seed: 0,
    name: 'demo',
  });
  const stop = () => void s.jobs.cancel(jobId);
  process.once('SIGINT', stop);
  const trained = (await follow(s, jobId)).result as { runId: number; epochs: number; val: RunEvaluation | null };
  process.off('SIGINT', stop);
  const trainSeconds = (Date.now() - trainStarted) / 1000;

  say('[3/6] evaluating the best checkpoint on val and test ...');
  // Training evaluated the best checkpoint on val as it finished.
  const val = trained.val ?? (await call(s, 'runs.evaluate', { id: trained.runId, split: 'val' }));
  const test = await call(s, 'runs.evaluate', { id: trained.runId, split: 'test' });

  say('[4/6] exporting ONNX ...');
  const onnx = path.join(dir, 'runs', String(trained.runId), 'demo.onnx');
  const exported = await call(s, 'models.export', { run: trained.runId, out: onnx, imgsz: o.imgsz, style: 'raw' });
  const card = await call(s, 'zoo.describe', { config: { ...DEMO_MODEL, nc: 6 }, imgsz: o.imgsz });

  say('[5/6] predicting the test split with the exported model ...');
  const { items } = await call(s, 'images.list', { filter: { split: 'test' }, limit: 1000 });
  const preds = await predict(
    onnx,
    items.map((im) => path.join(dir, im.path)),
    { conf: 0.25, iou: 0.7, maxDet: 300 },
  );
  const predictionsFile = path.join(dir, 'runs', String(trained.runId), 'test-predictions.json');
  fs.writeFileSync(predictionsFile, JSON.stringify(preds, null, 1));
  const boxes = preds.reduce((n, p) => n + p.detections.length, 0);

  say('[6/6] pseudo-labeling the unlabeled pool with the exported model as a teacher ...');
  const teacherName = `demo-run-${trained.runId}`;
  const known = (await call(s, 'teachers.list', {})).find((t) => t.name === teacherName);
  const teacher = known ?? (await call(s, 'teachers.add', { path: onnx, name: teacherName }));
  // conf 0.1: the lowest score the quality table reports, so the user picks the review threshold from it.
  const pseudo = await call(s, 'pseudo.start', { teachers: [teacher.id], conf: 0.1, only: 'unlabeled' });
  const labeled = (await follow(s, pseudo.jobId)).result as { images: number; boxes: number };
  const quality = await call(s, 'review.quality', {});

  const row = (k: string, v: string) => say(`  ${k.padEnd(22)} ${v}`);
  const map = (e: RunEvaluation) => `mAP50 ${e.coco.mAP50.toFixed(3)}  mAP50-95 ${e.coco.mAP.toFixed(3)}`;
  say('\nStarling demo summary');
  row(
    'model',
    `${card.name}: ${(card.parameters / 1e6).toFixed(2)}M params, ${card.gflops.toFixed(2)} GFLOPs @${o.imgsz}`,
  );
  row('training', `${trained.epochs} epochs in ${(trainSeconds / 60).toFixed(1)} min (run ${trained.runId})`);
  row('val', `${map(val)}  P ${val.metrics.precision.toFixed(3)} R ${val.metrics.recall.toFixed(3)}`);
  row('test', map(test));
  row(
    'exported',
    `${exported.out} (${(exported.bytes / 1e6).toFixed(1)} MB, ${exported.verified.latencyMs.toFixed(1)} ms/image)`,
  );
  row('test predictions', `${boxes} boxes on ${preds.length} images at conf 0.25 -> ${predictionsFile}`);
  row('pseudo-labels', `${labeled.boxes} pending boxes on ${labeled.images} pool images (teacher "${teacherName}")`);
  if (!quality) row('  vs hidden truth', 'nothing to score (no boxes at conf 0.1)');
  else {
    row('  vs hidden truth', `AP50 ${quality.ap50.toFixed(3)} on ${quality.truths} true boxes`);
    for (const t of quality.thresholds.filter((x) => [0.25, 0.5, 0.75].includes(x.score)))
      row(
        `  score >= ${t.score}`,
        `precision ${t.precision.toFixed(2)} recall ${t.recall.toFixed(2)} (${t.boxes} boxes)`,
      );
  }
  row('total time', `${((Date.now() - started) / 60000).toFixed(1)} min`);
  say('\nNext:');
  const next = (cmd: string, what: string) => say(`  ${cmd.padEnd(36)} ${what}`);
  next(`starling serve ${o.dir}`, 'open the project in the browser (or the desktop app)');
  next('Review queue', 'accept or reject the pending boxes, mark images done');
  next(`starling train ${o.dir}`, 'train again on the labels plus the accepted boxes');
  return { runId: trained.runId, onnx };
}
