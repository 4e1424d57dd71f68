/**
 * Distillation on the sample project (issue "distillation"), two parts:
 *
 *   npm run bench:distill -- step            the step cost: plain training against distillation from a teacher
 *                                            the student's size (self-distillation from a run, dense with DFL)
 *                                            and from the Ultralytics fixture, images/s of the second epoch,
 *                                            alternating, twice each (about 3 minutes)
 *   npm run bench:distill -- table [B] [T]   the comparison table: every student the same model, the same
 *                                            B-minute budget (default 4) and the same val split; teachers
 *                                            trained beforehand for T minutes each (default 6), their cost
 *                                            printed apart (about 70 minutes with the defaults)
 *
 * The table's rows: (a) labels only; (b) the teacher's pseudo-labels on the pool accepted at a threshold, then
 * trained on; (c) distillation with labels; (c') the same with the Ultralytics export as a foreign teacher;
 * (d) labels plus distillation on the pool; (e) label-free (the pool and the teacher only); (f) two teachers each
 * trained on three of the six classes, distilling on labels plus pool, against (f-merge) the merge of their
 * pseudo-labels; (g) self-distillation from (a). The teacher for (b)-(e) is YOLOv8n fine-tuned from the
 * Ultralytics checkpoint for T minutes (a larger model than the student, trained longer); the 3-class teachers
 * are the same checkpoint fine-tuned on projects where only their three classes are labeled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { ProjectStore } from '../src-main/store/project.js';
import type { RunSettingsInput } from '../src-main/settings/run-settings.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'distill');
const FIXTURES = path.resolve(HERE, '../../shared/fixtures/ultralytics');
const PART = process.argv[2] ?? 'step';
const MINUTES = Number(process.argv[3] ?? 4);
const TEACHER_MINUTES = Number(process.argv[4] ?? 6);
const IMGSZ = 320;
const ACCEPT = 0.4; // pseudo-label merge: accepted at this score and above

process.env.STARLING_HOME = path.join(DATA, 'home');
fs.rmSync(DATA, { recursive: true, force: true });
fs.mkdirSync(DATA, { recursive: true });
const session = new Session();
const STUDENT = { model: 'yolo11', backbone: 'starnet_s050', head: 'yolo', scale: 'n' } as const;

async function sample(
  name: string,
  seed: number,
  counts?: { train: number; pool: number; val: number; test: number },
): Promise<string> {
  const dir = path.join(DATA, name);
  const { jobId } = await call(session, 'sample.create', { dir, seed, ...(counts ? { counts } : {}) });
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`sample ${name}: ${job.error?.message}`);
  return dir;
}

async function open(project: string) {
  await call(session, 'project.open', { path: project });
}

interface Trained {
  id: number;
  name: string;
  mAP50: (number | undefined)[];
  imagesPerSecond: number[];
  seconds: number;
}

async function train(name: string, settings: RunSettingsInput): Promise<Trained> {
  const t0 = Date.now();
  const { jobId } = await call(session, 'train.start', { device: 'cpu', ...settings, name });
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`${name}: ${job.error?.message ?? job.status}`);
  const run = (await call(session, 'runs.list', {})).find((r) => r.name === name)!;
  const epochs = await call(session, 'runs.epochs', { id: run.id });
  const out = {
    id: run.id,
    name,
    mAP50: epochs.map((e) => e.metrics.mAP50),
    imagesPerSecond: epochs.map((e) => e.metrics.imagesPerSecond ?? 0),
    seconds: (Date.now() - t0) / 1000,
  };
  const curve = out.mAP50.map((m) => m?.toFixed(3) ?? '-').join(' ');
  console.log(`${name} (run ${run.id}): val mAP50 by epoch ${curve} (${out.seconds.toFixed(0)} s)`);
  return out;
}

/** Exports a run of the open project as a raw ONNX teacher file and registers it in `projects`. */
async function shareTeacher(runId: number, name: string, projects: string[]): Promise<void> {
  const file = path.join(DATA, `${name}.onnx`);
  await call(session, 'models.export', { run: runId, out: file, style: 'raw', imgsz: IMGSZ });
  for (const p of projects) {
    await open(p);
    await call(session, 'teachers.add', { path: file, name });
  }
}

/** The pool pseudo-labeled by `teachers`, every box at ACCEPT or above accepted (the images become labeled). */
async function merge(teachers: string[]): Promise<string> {
  const registered = await call(session, 'teachers.list', {});
  const ids = teachers.map((t) => registered.find((r) => r.name === t)!.id);
  const { jobId } = await call(session, 'pseudo.start', { teachers: ids, conf: 0.25, only: 'unlabeled' });
  const job = await session.jobs.wait(jobId);
  if (job.status !== 'done') throw new Error(`pseudo-label: ${job.error?.message}`);
  await call(session, 'review.set', { state: 'rejected', maxScore: ACCEPT - 1e-9 });
  const r = await call(session, 'review.set', { state: 'accepted', minScore: ACCEPT, done: true });
  return `${r.changed} boxes on ${r.doneImages} pool images accepted at ${ACCEPT}`;
}

/** Leaves only `keep` labeled: the other classes' boxes and the classes themselves go (a 3-class dataset). */
function keepClasses(project: string, keep: string[]) {
  const store = ProjectStore.open(project);
  try {
    const drop = store.classes.list().filter((c) => !keep.includes(c.name));
    for (const c of drop) {
      store.db.prepare('DELETE FROM annotations WHERE class_id = ?').run(c.id);
      store.classes.delete(c.id);
    }
  } finally {
    store.close();
  }
}

async function stepCost() {
  const project = await sample('step', 8, { train: 64, pool: 0, val: 8, test: 0 });
  await open(project);
  await call(session, 'teachers.add', { path: path.join(FIXTURES, 'yolov8n-sample6.onnx'), name: 'ultralytics' });
  const common: RunSettingsInput = {
    model: STUDENT,
    data: { imgsz: IMGSZ, batch: 8 },
    budget: { epochs: 2, valEvery: 100 },
  };
  const base = await train('base', common);
  const rows: Record<string, number[]> = { plain: [], self: [], ultralytics: [] };
  for (let round = 0; round < 2; round++) {
    rows.plain!.push((await train(`plain-${round}`, common)).imagesPerSecond[1]!);
    const self = { ...common, distill: { teachers: [`run:${base.id}`] } };
    rows.self!.push((await train(`self-${round}`, self)).imagesPerSecond[1]!);
    const foreign = { ...common, distill: { teachers: ['ultralytics'] } };
    rows.ultralytics!.push((await train(`ultralytics-${round}`, foreign)).imagesPerSecond[1]!);
  }
  console.log('\n| round | plain step img/s | self-distillation img/s | cost | Ultralytics teacher img/s | cost |');
  console.log('|---|---|---|---|---|---|');
  for (let i = 0; i < 2; i++) {
    const p = rows.plain![i]!;
    const s = rows.self![i]!;
    const u = rows.ultralytics![i]!;
    console.log(
      `| ${i + 1} | ${p.toFixed(1)} | ${s.toFixed(1)} | ${(p / s).toFixed(2)}x | ${u.toFixed(1)} | ${(p / u).toFixed(2)}x |`,
    );
  }
}

async function table() {
  const main = await sample('main', 0);
  const mergeOne = await sample('merge-one', 0);
  const mergeTwo = await sample('merge-two', 0);
  const halves = [
    ['circle', 'square', 'triangle'],
    ['star', 'hexagon', 'cross'],
  ];
  const halfProjects = [await sample('half-a', 0), await sample('half-b', 0)];
  await call(session, 'project.close', {}); // the last sample is open in the session
  halfProjects.forEach((p, i) => keepClasses(p, halves[i]!));
  const pt = path.join(FIXTURES, 'yolov8n-sample6.pt');
  const common = (minutes: number): RunSettingsInput => ({
    data: { imgsz: IMGSZ },
    budget: { epochs: 200, minutes, valEvery: 2 },
  });
  const student = (extra: RunSettingsInput = {}): RunSettingsInput => ({
    ...common(MINUTES),
    model: STUDENT,
    ...extra,
  });

  // Teachers, trained beforehand.
  console.log(`teachers: YOLOv8n fine-tuned from the Ultralytics checkpoint, ${TEACHER_MINUTES} min each`);
  await open(main);
  const teacher = await train('teacher-yolov8n', { ...common(TEACHER_MINUTES), weights: { from: pt } });
  await shareTeacher(teacher.id, 'yolov8n', [mergeOne]);
  const halfTeachers: string[] = [];
  for (const [i, p] of halfProjects.entries()) {
    await open(p);
    const name = `half-${'ab'[i]}`;
    const t = await train(name, { ...common(TEACHER_MINUTES), weights: { from: pt } });
    await shareTeacher(t.id, name, [main, mergeTwo]);
    halfTeachers.push(name);
  }
  await open(main);
  await call(session, 'teachers.add', { path: path.join(FIXTURES, 'yolov8n-sample6.onnx'), name: 'ultralytics' });

  // Students, one budget.
  const rows: { row: string; what: string; run: Trained }[] = [];
  const big = `run:${teacher.id}`; // in its own project, a run teaches with its DFL logits too
  const add = async (row: string, what: string, settings: RunSettingsInput) =>
    rows.push({ row, what, run: await train(`(${row}) ${what}`, settings) });
  await open(main);
  await add('a', 'labels only', student());
  await add('c', 'distillation from yolov8n, with labels', student({ distill: { teachers: [big] } }));
  await add(
    'c′',
    'distillation from the Ultralytics export, with labels',
    student({ distill: { teachers: ['ultralytics'] } }),
  );
  await add('d', 'labels + distillation on the pool', student({ distill: { teachers: [big], data: 'all' } }));
  await add('e', 'label-free (pool + teacher only)', student({ distill: { teachers: [big], data: 'unlabeled' } }));
  await add('f', 'two 3-class teachers, labels + pool', student({ distill: { teachers: halfTeachers, data: 'all' } }));
  await add(
    'g',
    'self-distillation from (a), with labels',
    student({ distill: { teachers: [`run:${rows[0]!.run.id}`] } }),
  );
  await open(mergeOne);
  console.log(`(b) ${await merge(['yolov8n'])}`);
  await add('b', 'labels + yolov8n pseudo-labels on the pool', student());
  await open(mergeTwo);
  console.log(`(f-merge) ${await merge(halfTeachers)}`);
  await add('f-merge', 'labels + the two 3-class teachers’ merged pseudo-labels', student());

  const last = (r: Trained) => r.mAP50.filter((m) => m !== undefined).at(-1) ?? 0;
  const best = (r: Trained) => Math.max(0, ...r.mAP50.filter((m): m is number => m !== undefined));
  console.log(`\n${MINUTES}-minute students, YOLO11n-StarNet s050 at ${IMGSZ}, val split of sample seed 0\n`);
  console.log('| row | what | epochs | val mAP50 (last) | best | img/s | curve (every 2nd epoch) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { row, what, run } of rows.sort((x, y) => x.row.localeCompare(y.row)))
    console.log(
      `| ${row} | ${what} | ${run.mAP50.length} | ${last(run).toFixed(3)} | ${best(run).toFixed(3)} | ${(
        run.imagesPerSecond.reduce((a, b) => a + b, 0) / Math.max(1, run.imagesPerSecond.length)
      ).toFixed(1)} | ${run.mAP50
        .filter((m) => m !== undefined)
        .map((m) => m.toFixed(3))
        .join(' ')} |`,
    );
}

try {
  if (PART === 'table') await table();
  else await stepCost();
} finally {
  await session.dispose();
}
