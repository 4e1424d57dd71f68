/**
 * Pseudo-label pipeline overhead (issue "teachers"): the whole job (decode + letterbox in sharp's pool, batched
 * inference, decode + WBF, transactional writes) on the sample project's unlabeled pool with a YOLO11n-sized
 * teacher at 640, against bare `session.run` over the same images already letterboxed into tensors, in the
 * same process, alternating, twice each. Target: the job takes at most 10% longer than the bare runs.
 *
 *   npm run bench:pseudo
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { seedInit } from '../src-main/engine/nn.js';
import { exportDetector } from '../src-main/export/detector.js';
import { buildDetector } from '../src-main/models/zoo.js';
import { runPseudoLabel } from '../src-main/teachers/pseudo-label.js';
import { registerTeacher } from '../src-main/teachers/registry.js';
import { letterbox } from '../src-main/inference/letterbox.js';
import { createSampleProject } from '../src-main/sample/project.js';
import { Rng } from '../src-main/util/random.js';

const IMGSZ = 640;
const BATCH = 8;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starling-bench-pseudo-'));
try {
  console.log('generating the sample project and a YOLO11n teacher at 640 ...');
  const store = await createSampleProject(dir, { seed: 0 });
  seedInit(3);
  const d = buildDetector({ model: 'yolo11', scale: 'n', backbone: 'yolo11', head: 'yolo', nc: 6 });
  // Untrained class logits sit near -10. The bias is per class and level, so its range sets how many anchors pass
  // conf 0.25: this one gives a few hundred per image before NMS and about 15 boxes written, as a trained model
  // would, so decode, NMS and fusion do real work (checked: the line below prints the boxes written).
  const r = new Rng('bench-pseudo');
  for (const [name, p] of d.namedTensors())
    if (/cv3\.\d\.2\.bias$/.test(name)) p.data = p.data.map(() => r.range(-1.75, -1.05));
  const names = store.classes.list().map((c) => c.name);
  const teacherFile = path.join(dir, 'yolo11n.onnx');
  fs.writeFileSync(teacherFile, exportDetector(d, { imgsz: IMGSZ, style: 'raw', names }).bytes);
  const teacher = await registerTeacher(store, { path: teacherFile, name: 'yolo11n' });
  const pool = store.images.list({ status: 'unlabeled' }, 0, 1e9);
  console.log(`${pool.length} unlabeled images, batch ${BATCH}, ${os.cpus().length} cores`);

  // Reference: the images letterboxed up front, then only session.run in batches.
  const tensors = await Promise.all(
    pool.map((im) => letterbox({ file: store.absolutePath(im.path), boxes: [] }, IMGSZ)),
  );
  const session = await ort.InferenceSession.create(teacherFile);
  const bare = async () => {
    const t0 = performance.now();
    for (let i = 0; i < tensors.length; i += BATCH) {
      const part = tensors.slice(i, i + BATCH);
      const data = new Float32Array(part.length * 3 * IMGSZ * IMGSZ);
      part.forEach((t, k) => data.set(t.data, k * 3 * IMGSZ * IMGSZ));
      await session.run({ images: new ort.Tensor('float32', data, [part.length, 3, IMGSZ, IMGSZ]) });
    }
    return (performance.now() - t0) / 1000;
  };
  const ctx = { signal: new AbortController().signal, progress: () => {}, throwIfCancelled: () => {} };
  let boxes = 0;
  const job = async (round: number) => {
    // A different conf per round gives a new job key, so every round labels the whole pool again.
    const t0 = performance.now();
    const res = await runPseudoLabel(
      store,
      { teachers: [teacher.id], conf: 0.25 + round * 1e-6, iou: 0.6, fuse: 'wbf', only: 'unlabeled', batch: BATCH },
      ctx,
    );
    boxes = res.boxes;
    return (performance.now() - t0) / 1000;
  };
  await bare(); // warm-up
  const rows: { bare: number; job: number }[] = [];
  for (let round = 0; round < 2; round++) rows.push({ bare: await bare(), job: await job(round) });
  await session.release();
  store.close();
  const n = pool.length;
  console.log(`\npseudo-label benchmark: ${n} images, YOLO11n teacher at ${IMGSZ}, ${boxes} boxes written per pass`);
  console.log('| round | bare session.run s | images/s | pseudo-label job s | images/s | overhead |');
  console.log('|---|---|---|---|---|---|');
  rows.forEach((x, i) =>
    console.log(
      `| ${i + 1} | ${x.bare.toFixed(2)} | ${(n / x.bare).toFixed(1)} | ${x.job.toFixed(2)} | ${(n / x.job).toFixed(1)} | ${((x.job / x.bare - 1) * 100).toFixed(1)}% |`,
    ),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
