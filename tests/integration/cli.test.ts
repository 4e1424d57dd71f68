import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src-main/store/project.js';
import { tempDir } from '../helpers.js';
import { ultralyticsFixture } from '../third-party.js';

const FIX = ultralyticsFixture();

const run = promisify(execFile);
const BIN = path.resolve('bin/starling.js');

let tmp: ReturnType<typeof tempDir>;

/** Runs the real CLI in a child process; never throws, returns exit code and output. */
async function starling(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return starlingWithin(90_000, ...args);
}

async function starlingWithin(
  timeout: number,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, STARLING_HOME: `${tmp.dir}/home` },
      // One process (tsx runs in it): a hung command is killed, not left behind.
      timeout,
      killSignal: 'SIGKILL',
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** stderr without the progress lines a job prints when there is no terminal (`[####......]  40%  ...`). */
const said = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('['))
    .join('\n');

/** Every accepted box of a project keyed by image path, in a comparable form. */
function snapshot(project: string) {
  const s = ProjectStore.open(project);
  try {
    const classes = s.classes.list();
    const name = new Map(classes.map((c) => [c.id, c.name]));
    const images = s.images.list({}, 0, 100000).map((im) => ({
      path: path.basename(im.path),
      split: im.split,
      status: im.status === 'unlabeled' ? 'unlabeled' : 'labeled',
      boxes: s.annotations
        .forImage(im.id)
        .filter((a) => a.review === 'accepted')
        .map((a) => ({ cls: name.get(a.classId), x: a.x, y: a.y, w: a.w, h: a.h }))
        .sort((a, b) => a.x - b.x || a.y - b.y),
    }));
    images.sort((a, b) => a.path.localeCompare(b.path));
    return { classes: classes.map((c) => c.name), images };
  } finally {
    s.close();
  }
}

beforeAll(async () => {
  tmp = tempDir();
  const r = await starling(
    'sample',
    `${tmp.dir}/src`,
    '--seed',
    '3',
    '--train',
    '8',
    '--pool',
    '3',
    '--val',
    '3',
    '--test',
    '2',
  );
  // Without a terminal, progress comes as lines; nothing else is said.
  expect(said(r.stderr)).toBe('');
  expect(r.code).toBe(0);
  // The object sizes it drew, as COCO's classes and a histogram.
  expect(r.stdout).toMatch(
    /object sizes: \d+ boxes at imgsz 320: small \d+%, medium \d+%, large \d+% \(median side \d+ px\)/,
  );
  expect(r.stdout).toMatch(/^ +16-24 px #* +\d+$/m);
}, 120_000);

afterAll(() => tmp.cleanup());

describe('starling CLI', () => {
  it('reports counts as JSON', async () => {
    const r = await starling('info', `${tmp.dir}/src`, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.counts.bySplit).toEqual({ train: 11, val: 3, test: 2 });
    expect(info.counts.byStatus.unlabeled).toBe(3);
    expect(info.classes.length).toBeGreaterThanOrEqual(5);
    expect(info.settings.sample.hiddenGroundTruth).toBe('hidden/instances_train.json');
  });

  it('round-trips COCO losslessly: boxes, classes and splits', async () => {
    const out = `${tmp.dir}/coco`;
    expect((await starling('export-labels', `${tmp.dir}/src`, '--format', 'coco', '--out', out)).code).toBe(0);
    expect((await starling('init', `${tmp.dir}/coco-proj`)).code).toBe(0);
    const r = await starling('import', `${tmp.dir}/coco-proj`, out, '--format', 'coco', '--images', `${tmp.dir}/src`);
    expect(said(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    const a = snapshot(`${tmp.dir}/src`);
    const b = snapshot(`${tmp.dir}/coco-proj`);
    // COCO has no unlabeled images: compare the labeled ones, bit for bit.
    expect(b.classes).toEqual(a.classes);
    expect(b.images).toEqual(a.images.filter((im) => im.status === 'labeled'));
  });

  it('exports only labeled images into the YOLO splits, each with its label file, and says what it left out', async () => {
    const out = `${tmp.dir}/yolo-default`;
    const r = await starling('export-labels', `${tmp.dir}/src`, '--format', 'yolo', '--out', out, '--images', 'copy');
    expect(r.code).toBe(0);
    // The sample's 3 pool images are not labeled: an Ultralytics training would take them as backgrounds.
    expect(r.stdout).toMatch(/exported 13 labeled images/);
    expect(r.stdout).toMatch(/left out: 3 images not labeled yet, 0 with boxes waiting for review/);
    for (const split of ['train', 'val', 'test']) {
      const images = fs.readdirSync(`${out}/images/${split}`);
      expect(images.length).toBeGreaterThan(0);
      for (const im of images)
        expect(fs.existsSync(`${out}/labels/${split}/${im.replace(/\.jpg$/, '.txt')}`), im).toBe(true);
    }
    expect(fs.existsSync(`${out}/images/unlabeled`)).toBe(false);
    const refused = await starling(
      'export-labels',
      `${tmp.dir}/src`,
      '--format',
      'coco',
      '--out',
      `${out}-c`,
      '--unlabeled',
      'pool',
    );
    expect(refused.stderr).toMatch(/coco cannot hold images that are not labeled yet/);
  });

  it('round-trips YOLO: boxes to float precision, classes and splits, unlabeled images kept apart', async () => {
    const out = `${tmp.dir}/yolo`;
    const args = ['--format', 'yolo', '--out', out, '--images', 'copy', '--unlabeled', 'pool'];
    const exported = await starling('export-labels', `${tmp.dir}/src`, ...args);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/pooled apart \(images\/unlabeled, not a split\): 3 images not labeled yet/);
    expect(fs.readdirSync(`${out}/images/unlabeled`)).toHaveLength(3);
    expect(fs.readFileSync(`${out}/data.yaml`, 'utf8')).toMatch(/^unlabeled: images\/unlabeled$/m);
    expect(fs.existsSync(`${out}/data.yaml`)).toBe(true);
    expect((await starling('init', `${tmp.dir}/yolo-proj`)).code).toBe(0);
    const r = await starling('import', `${tmp.dir}/yolo-proj`, out, '--format', 'yolo');
    expect(r.code).toBe(0);
    const a = snapshot(`${tmp.dir}/src`);
    const b = snapshot(`${tmp.dir}/yolo-proj`);
    expect(b.classes).toEqual(a.classes);
    expect(b.images.map(({ path: p, split, status }) => ({ p, split, status }))).toEqual(
      a.images.map(({ path: p, split, status }) => ({ p, split, status })),
    );
    b.images.forEach((im, i) => {
      const ref = a.images[i]!;
      expect(im.boxes.length).toBe(ref.boxes.length);
      im.boxes.forEach((box, j) => {
        const r0 = ref.boxes[j]!;
        expect(box.cls).toBe(r0.cls);
        for (const k of ['x', 'y', 'w', 'h'] as const) expect(Math.abs(box[k] - r0[k])).toBeLessThan(1e-6);
      });
    });
  });

  it('fails with a one-line reason and a per-file report, importing nothing', async () => {
    const bad = `${tmp.dir}/bad-coco`;
    fs.mkdirSync(bad, { recursive: true });
    fs.writeFileSync(
      `${bad}/instances_train.json`,
      JSON.stringify({
        images: [{ id: 1, file_name: 'missing.jpg', width: 10, height: 10 }],
        annotations: [],
        categories: [{ id: 1, name: 'x' }],
      }),
    );
    expect((await starling('init', `${tmp.dir}/bad-proj`)).code).toBe(0);
    const r = await starling('import', `${tmp.dir}/bad-proj`, bad, '--format', 'coco');
    expect(r.code).toBe(1);
    const lines = said(r.stderr).split('\n');
    expect(lines[0]).toMatch(/^starling: error: the dataset has problems: 1 problem; nothing was imported/);
    expect(r.stderr).toMatch(/missing\.jpg: image file not found/);
    const info = JSON.parse((await starling('info', `${tmp.dir}/bad-proj`, '--json')).stdout);
    expect(info.counts.images).toBe(0);
    expect(info.classes).toEqual([]);
  });

  it('refuses special files and links out of the dataset root, naming each, without reading or hanging', async () => {
    const root = `${tmp.dir}/special`;
    fs.mkdirSync(`${root}/images`, { recursive: true });
    fs.copyFileSync(`${tmp.dir}/src/images/train/train_00000.jpg`, `${root}/images/good.jpg`);
    fs.writeFileSync(`${tmp.dir}/outside.jpg`, fs.readFileSync(`${tmp.dir}/src/images/train/train_00001.jpg`));
    fs.symlinkSync('/dev/zero', `${root}/images/zero.jpg`);
    spawnSync('mkfifo', [`${root}/images/pipe.jpg`]);
    fs.symlinkSync(`${tmp.dir}/outside.jpg`, `${root}/images/out.jpg`);
    fs.mkdirSync(`${root}/images/dir.jpg`);
    const names = ['good.jpg', 'zero.jpg', 'pipe.jpg', 'out.jpg', 'dir.jpg'];
    fs.writeFileSync(
      `${root}/instances_train.json`,
      JSON.stringify({
        images: names.map((n, i) => ({ id: i + 1, file_name: `images/${n}` })),
        annotations: [],
        categories: [{ id: 1, name: 'x' }],
      }),
    );
    expect((await starling('init', `${tmp.dir}/special-proj`)).code).toBe(0);
    const started = Date.now();
    const r = await starling('import', `${tmp.dir}/special-proj`, root, '--format', 'coco');
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/path "images\/zero\.jpg" is a link to \/dev\/zero, outside the dataset root/);
    expect(r.stderr).toMatch(/pipe\.jpg: not a regular file: it is a FIFO \(named pipe\)/);
    expect(r.stderr).toMatch(/path "images\/out\.jpg" is a link to .*outside\.jpg, outside the dataset root/);
    expect(r.stderr).toMatch(/dir\.jpg: not a regular file: it is a folder/);
    const skipped = await starling('import', `${tmp.dir}/special-proj`, root, '--format', 'coco', '--skip-bad');
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/imported 1 images/);
    expect(skipped.stderr).toMatch(/skipped 4 bad item/);
  });

  it('logs a line per epoch and progress lines when there is no terminal (a log file, nohup, CI)', async () => {
    const r = await starling(
      'train',
      `${tmp.dir}/src`,
      '--imgsz',
      '64',
      '--batch',
      '4',
      '--epochs',
      '2',
      '--val-every',
      '2',
      '--device',
      'cpu',
    );
    expect(r.code).toBe(0);
    const lines = said(r.stderr).split('\n');
    // Two epochs, the second validated, each with its loss terms, speed and time left.
    expect(lines.filter((l) => /^epoch \d\/2 {2}box [\d.]+ cls [\d.]+ dfl [\d.]+/.test(l))).toHaveLength(2);
    expect(r.stderr).toMatch(
      /^epoch 1\/2 {2}box [\d.]+ cls [\d.]+ dfl [\d.]+ {2}[\d.]+ img\/s {2}[\d.]+ s {2}ETA \d+:\d\d$/m,
    );
    expect(r.stderr).toMatch(/^epoch 2\/2 .* val mAP50 [\d.]+ mAP50-95 [\d.]+ .*ETA 0:00/m);
    // Progress lines, not a bar redrawn with carriage returns.
    expect(r.stderr).not.toMatch(/\r/);
    expect(r.stderr).toMatch(/^\[#{20}\] {2}100% {2}\d+\/\d+/m);
  });

  it('trains from an experiment file with options over it, and prints the run back as a file that reproduces it', async () => {
    const project = `${tmp.dir}/src`;
    const exp = `${tmp.dir}/exp.yaml`;
    fs.writeFileSync(
      exp,
      [
        'name: from-a-file',
        'model: { backbone: shufflenetv2_x0_5 }',
        'data: { imgsz: 64, batch: 4 }',
        'augment: { mosaic: 0, hsvH: 0 }',
        'optimizer: { name: AdamW, lr0: 0.002, lrf: 0.2 }',
        'budget: { epochs: 3 }',
        'seed: 5',
        'device: cpu',
      ].join('\n'),
    );
    // --epochs overrides the file's budget; --set reaches a key without an option of its own.
    const r = await starling(
      'train',
      project,
      '--config',
      exp,
      '--epochs',
      '1',
      '--set',
      'optimizer.warmupBiasLr=0.05',
    );
    expect(r.code, r.stderr).toBe(0);
    const id = Number(/^run (\d+):/m.exec(r.stdout)![1]);
    const printed = await starling('runs', project, '--config', String(id));
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`^# Starling experiment: run ${id} of `));
    expect(printed.stdout).toMatch(/^name: from-a-file$/m);
    const stored = (id: number) => {
      const s = ProjectStore.open(project);
      try {
        return s.runs.get(id).settings;
      } finally {
        s.close();
      }
    };
    const first = stored(id);
    expect(first.budget.epochs).toBe(1);
    expect(first.optimizer).toMatchObject({ name: 'AdamW', lr0: 0.002, lrf: 0.2, warmupBiasLr: 0.05 });
    expect(first.augment).toMatchObject({ mosaic: 0, hsvH: 0 });
    expect(first.model.backbone).toBe('shufflenetv2_x0_5');
    // The printed file trains the same run again: every setting equal.
    fs.writeFileSync(`${tmp.dir}/again.yaml`, printed.stdout);
    const again = await starling('train', project, '--config', `${tmp.dir}/again.yaml`);
    expect(again.code, again.stderr).toBe(0);
    expect(stored(Number(/^run (\d+):/m.exec(again.stdout)![1]))).toEqual(first);
    // A bad file is refused before anything starts, with the file and the key named.
    fs.writeFileSync(`${tmp.dir}/bad.yaml`, 'optimizer:\n  lr: 0.1\ndata:\n  imgsz: 100\n');
    const bad = await starling('train', project, '--config', `${tmp.dir}/bad.yaml`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(
      `starling: error: ${tmp.dir}/bad.yaml: data.imgsz: Invalid number: must be a multiple of 32; optimizer.lr: unknown key`,
    );
  }, 120_000);

  it('runs the demo through every stage: the exported model pseudo-labels the pool, and it says what is next', async () => {
    const dir = `${tmp.dir}/demo`;
    const r = await starlingWithin(240_000, 'demo', '--dir', dir, '--minutes', '0.1', '--imgsz', '64');
    expect(r.code, r.stderr).toBe(0);
    for (let k = 1; k <= 6; k++) expect(r.stdout).toMatch(new RegExp(`^\\[${k}/6\\] `, 'm'));
    expect(r.stdout).toMatch(/^ {2}val +mAP50 [\d.]+ {2}mAP50-95 [\d.]+/m);
    expect(r.stdout).toMatch(/^ {2}pseudo-labels +\d+ pending boxes on 160 pool images \(teacher "demo-run-1"\)/m);
    expect(r.stdout).toMatch(/^ +vs hidden truth +(AP50 [\d.]+|nothing to score)/m);
    expect(r.stdout).toMatch(/^Next:\n {2}starling serve .*\n {2}Review queue .*\n {2}starling train /m);
    // The exported model is a registered teacher of the sample project now.
    const teachers = await starling('teachers', 'list', dir);
    expect(teachers.stdout).toMatch(/demo-run-1/);
  }, 260_000);

  it.skipIf(!FIX)(
    'fine-tunes from an Ultralytics checkpoint: says what loaded and takes the model from it',
    async () => {
      const pt = `${FIX}/yolov8n-sample6.pt`;
      const common = ['--imgsz', '64', '--batch', '4', '--epochs', '1', '--device', 'cpu'];
      const r = await starling('train', `${tmp.dir}/src`, '--weights', pt, ...common);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`${pt}: 298 tensors loaded (100% of the parameters), 0 missing, 0 unexpected`);
      expect(r.stderr).toMatch(/the model follows the weights: model yolov8, backbone yolov8/);
      expect(r.stdout).toMatch(/^run \d+: 1 epochs/m);
      // A model it does not fit: one plain reason, the report, the way out; no run.
      const bad = await starling(
        'train',
        `${tmp.dir}/src`,
        '--weights',
        pt,
        '--backbone',
        'mobilenetv3_small',
        ...common,
      );
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/yolov8n-sample6\.pt: .*probably not weights for this model.*--force-weights/);
      const runs = await starling('runs', `${tmp.dir}/src`);
      expect(runs.stdout).toMatch(/yolov8n yolov8\/yolo +yolov8n-sample6\.pt [0-9a-f]{8}/);
    },
  );

  it('exits non-zero for a path that is not a project', async () => {
    const r = await starling('info', `${tmp.dir}/nowhere`);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such project file/);
  });

  it('prints model cards and exports a verified ONNX model', async () => {
    const card = JSON.parse((await starling('zoo', 'yolo11n', '--json')).stdout);
    expect(card).toMatchObject({ parameters: 2624080, strides: [8, 16, 32], channels: [64, 128, 256] });
    const out = `${tmp.dir}/model.onnx`;
    const r = await starling(
      'export',
      '--config',
      'yolo11n-shufflenetv2_x0_5',
      '--names',
      'a,b',
      '--imgsz',
      '128',
      '--style',
      'nms',
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/verified with onnxruntime: output0 \[1, 300, 6\]/);
    expect(fs.statSync(out).size).toBeGreaterThan(1e6);
    const bad = await starling('export', '--config', 'yolo11q', '--out', out);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/neither a config file nor a name like yolo11n/);
  });

  it('evaluates COCO files with the same 12 numbers as pycocotools', async () => {
    const r = await starling(
      'eval',
      '--gt',
      'tests/fixtures/coco/gt.json',
      '--dt',
      'tests/fixtures/coco/dt.json',
      '--json',
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { stats: number[]; metrics: { precision: number } };
    const expected = JSON.parse(fs.readFileSync('tests/fixtures/coco/expected.json', 'utf8')).stats as number[];
    out.stats.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-4));
    expect(out.metrics.precision).toBeGreaterThan(0);
    const missing = await starling('eval', '--gt', `${tmp.dir}/none.json`, '--dt', 'tests/fixtures/coco/dt.json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/none\.json: cannot read \(ENOENT\)/);
  });

  it('rejects bad arguments with usage help', async () => {
    const r = await starling('import', `${tmp.dir}/src`, 'x', '--format', 'pascal');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Allowed choices are coco, yolo, voc/);
  });
});
