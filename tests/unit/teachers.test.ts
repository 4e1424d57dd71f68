import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { Session } from '../../src-main/api/session.js';
import * as F from '../../src-main/engine/functional.js';
import { Graph } from '../../src-main/engine/ir.js';
import { nd } from '../../src-main/engine/ndarray.js';
import { encodeModel } from '../../src-main/engine/onnx-writer.js';
import { UNCANCELLABLE, type JobContext } from '../../src-main/util/job-context.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { fuse } from '../../src-main/teachers/fuse.js';
import { predict } from '../../src-main/inference/predictor.js';
import { classMapping } from '../../src-main/inference/class-map.js';
import { runPseudoLabel } from '../../src-main/teachers/pseudo-label.js';
import { pseudoLabelQuality } from '../../src-main/teachers/quality.js';
import { probeTeacher } from '../../src-main/teachers/teacher.js';
import { tempDir, writeJpegs } from '../helpers.js';

const S = 64;
let tmp: ReturnType<typeof tempDir>;
let square: string;

/**
 * A model that ignores its input and answers fixed outputs (batch follows the input): a teacher whose
 * decoded boxes are known exactly.
 */
function constantModel(
  file: string,
  outputs: Record<string, { shape: number[]; data: number[] }>,
  metadata: Record<string, string> = {},
): string {
  const g = new Graph();
  const x = g.input('images', [1, 3, S, S]);
  const zero = F.mul(F.mean(x, [1, 2, 3], true), 0); // [B, 1, 1, 1]
  const outs = Object.fromEntries(
    Object.entries(outputs).map(([name, o]) => {
      const z = F.reshape(zero, [-1, ...o.shape.map(() => 1)]);
      return [name, F.add(z, g.constant(nd([1, ...o.shape], o.data)))];
    }),
  );
  const { bytes } = encodeModel({
    graph: g,
    outputs: outs,
    dynamicBatch: { inputs: ['images'], outputs: Object.keys(outs) },
    metadata: { imgsz: `[${S}, ${S}]`, ...metadata },
  });
  fs.writeFileSync(file, bytes);
  return file;
}

const rows = (n: number, width: number, filled: number[][]) =>
  Array.from({ length: n }, (_, i) => filled[i] ?? new Array<number>(width).fill(0)).flat();

/** Channel-major [4 + C, N] from per-candidate rows. */
const channelsFirst = (cands: number[][], n: number) => {
  const ch = cands[0]!.length;
  const out = new Array<number>(ch * n).fill(0);
  cands.forEach((c, i) => c.forEach((v, k) => (out[k * n + i] = v)));
  return out;
};

let models: Record<string, string>;

beforeAll(async () => {
  tmp = tempDir();
  // A square image of the input size: letterbox is the identity, so input pixels are image pixels.
  square = (await writeJpegs(`${tmp.dir}/img`, 1, { width: S, height: S }))[0]!;
  const m = (n: string) => `${tmp.dir}/${n}.onnx`;
  models = {
    raw: constantModel(
      m('raw'),
      {
        output0: {
          shape: [6, 8],
          data: channelsFirst(
            [
              [32, 32, 20, 10, 0.9, 0.1],
              [33, 32, 20, 10, 0.7, 0.2], // overlaps the first, same class: suppressed
              [10, 12, 8, 6, 0.05, 0.6],
            ],
            8,
          ),
        },
      },
      { names: "{0: 'person', 1: 'car'}" },
    ),
    nms: constantModel(m('nms'), {
      output0: {
        shape: [10, 6],
        data: rows(10, 6, [
          [22, 27, 42, 37, 0.9, 0],
          [4, 9, 16, 15, 0.6, 1],
        ]),
      },
    }),
    yolov5: constantModel(m('yolov5'), {
      output0: {
        shape: [8, 7],
        data: rows(8, 7, [
          [32, 32, 20, 10, 0.9, 0.8, 0.1], // 0.72, class 0
          [33, 32, 20, 10, 0.9, 0.7, 0.2], // 0.63, suppressed
          [10, 12, 8, 6, 0.5, 0.1, 0.9], // 0.45, class 1
          [50, 50, 4, 4, 0.2, 0.9, 0.9], // 0.18 < conf
        ]),
      },
    }),
    // Three classes: [1, 300, 7] fits only RT-DETR's shape rule.
    rtdetr: constantModel(m('rtdetr'), {
      output0: {
        shape: [300, 7],
        data: rows(300, 7, [
          [0.5, 0.5, 0.25, 0.125, 0.1, 0.85, 0],
          [0.2, 0.2, 0.1, 0.1, 0.3, 0.2, 0],
        ]),
      },
    }),
    // Two classes: [1, 300, 6] is also the NMS layout; Ultralytics' metadata tells them apart.
    rtdetr2: constantModel(
      m('rtdetr2'),
      { output0: { shape: [300, 6], data: rows(300, 6, [[0.5, 0.5, 0.25, 0.125, 0.1, 0.85]]) } },
      { description: 'Ultralytics RT-DETR-L model trained on coco.yaml' },
    ),
    centernet: constantModel(m('centernet'), {
      cls: { shape: [2, 16, 16], data: Array.from({ length: 512 }, (_, i) => (i === 256 + 5 * 16 + 3 ? 0.8 : 0)) },
      reg: {
        shape: [2, 16, 16],
        data: Array.from({ length: 512 }, (_, i) => (i === 5 * 16 + 3 ? 0.5 : i === 256 + 5 * 16 + 3 ? 0.25 : 0)),
      },
      wh: {
        shape: [2, 16, 16],
        data: Array.from({ length: 512 }, (_, i) => (i === 5 * 16 + 3 ? 4 : i === 256 + 5 * 16 + 3 ? 2 : 0)),
      },
    }),
    odd: constantModel(m('odd'), { feat: { shape: [5, 5, 5], data: new Array(125).fill(0) } }),
  };
});
afterAll(() => tmp.cleanup());

const o = { conf: 0.25, iou: 0.6, maxDet: 100 };
const boxes = (p: Awaited<ReturnType<typeof predict>>) =>
  p[0]!.detections.map((d) => ({ c: d.classId, s: +d.score.toFixed(4), b: d.box.map((v) => +v.toFixed(3)) }));

describe('teacher families', () => {
  it('detects each output layout and decodes its boxes exactly', async () => {
    const fam = async (k: string) => (await probeTeacher(models[k]!, k === 'nms' ? { names: ['a', 'b'] } : {})).family;
    expect(await fam('raw')).toBe('ultralytics-raw');
    expect(await fam('nms')).toBe('ultralytics-nms');
    expect(await fam('yolov5')).toBe('yolov5');
    expect(await fam('rtdetr')).toBe('rtdetr');
    expect(await fam('centernet')).toBe('centernet');
    expect(await fam('rtdetr2')).toBe('rtdetr');

    expect(boxes(await predict(models.raw!, [square], o))).toEqual([
      { c: 0, s: 0.9, b: [22, 27, 20, 10] },
      { c: 1, s: 0.6, b: [6, 9, 8, 6] },
    ]);
    expect(boxes(await predict(models.nms!, [square], o))).toEqual([
      { c: 0, s: 0.9, b: [22, 27, 20, 10] },
      { c: 1, s: 0.6, b: [4, 9, 12, 6] },
    ]);
    expect(boxes(await predict(models.yolov5!, [square], o))).toEqual([
      { c: 0, s: 0.72, b: [22, 27, 20, 10] },
      { c: 1, s: 0.45, b: [6, 9, 8, 6] },
    ]);
    // RT-DETR: normalized centre and size times the 64 px input; no NMS.
    expect(boxes(await predict(models.rtdetr!, [square], o))).toEqual([
      { c: 1, s: 0.85, b: [24, 28, 16, 8] },
      { c: 0, s: 0.3, b: [9.6, 9.6, 6.4, 6.4] },
    ]);
    // CenterNet: peak at cell (3, 5) of class 1; centre (3.5, 5.25) cells, size 4x2 cells, stride 64/16 = 4.
    expect(boxes(await predict(models.centernet!, [square], o))).toEqual([{ c: 1, s: 0.8, b: [6, 17, 16, 8] }]);
  });

  it('takes class names from metadata, refuses unknown layouts with the shapes found, and checks overrides', async () => {
    expect((await probeTeacher(models.raw!)).names).toEqual(['person', 'car']);
    expect((await probeTeacher(models.yolov5!, { names: ['face', 'hand'] })).names).toEqual(['face', 'hand']);
    await expect(probeTeacher(models.yolov5!, { names: ['face'] })).rejects.toThrow(
      /1 class names for a model with 2 classes/,
    );
    await expect(probeTeacher(models.odd!)).rejects.toThrow(
      /unrecognized detector outputs: feat \[1, 5, 5, 5\]; expected one of/,
    );
    await expect(probeTeacher(models.raw!, { family: 'centernet' })).rejects.toThrow(/do not fit centernet/);
    // A YOLOv5-shaped output forced to RT-DETR fits the shape rule, so the override is honoured.
    expect((await probeTeacher(models.nms!, { family: 'rtdetr' })).detected).toBe(false);
    // NMS rows carry class ids only: the names come from metadata or the user, and any count is accepted.
    await expect(probeTeacher(models.nms!)).rejects.toThrow(/do not tell how many classes.*--names/);
    expect((await probeTeacher(models.nms!, { names: ['a', 'b', 'c'] })).names).toEqual(['a', 'b', 'c']);
    const named = constantModel(
      `${tmp.dir}/nms-named.onnx`,
      { output0: { shape: [10, 6], data: rows(10, 6, [[22, 27, 42, 37, 0.9, 0]]) } },
      { names: "{0: 'person', 1: 'car', 2: 'bus'}" },
    );
    expect((await probeTeacher(named)).names).toEqual(['person', 'car', 'bus']);
    await expect(probeTeacher(`${tmp.dir}/missing.onnx`)).rejects.toThrow(/missing\.onnx/);
    fs.writeFileSync(`${tmp.dir}/cut.onnx`, fs.readFileSync(models.raw!).subarray(0, 200));
    await expect(probeTeacher(`${tmp.dir}/cut.onnx`)).rejects.toThrow(/cut\.onnx/);
    const nan = constantModel(`${tmp.dir}/nan.onnx`, { output0: { shape: [6, 8], data: new Array(48).fill(NaN) } });
    await expect(predict(nan, [square], o)).rejects.toThrow(/output0 contains NaN/);
  });
});

describe('class mapping and fusion', () => {
  it('maps teacher classes onto project classes by map, then by name, and ignores the rest', () => {
    const project = [
      { id: 7, name: 'Person' },
      { id: 9, name: 'vehicle' },
    ];
    expect(classMapping(['person', 'car', 'dog', 'bus'], { car: 'vehicle', dog: null }, project)).toEqual([
      7,
      9,
      null,
      null,
    ]);
  });

  it('fuses overlapping boxes with WBF (confidence-weighted corners, score scaled by agreement) or NMS', () => {
    const sets = [
      { detections: [{ classId: 0, score: 0.9, box: [0, 0, 10, 10] as [number, number, number, number] }] },
      {
        detections: [
          { classId: 0, score: 0.6, box: [1, 1, 10, 10] as [number, number, number, number] },
          { classId: 1, score: 0.8, box: [1, 1, 10, 10] as [number, number, number, number] },
        ],
      },
    ];
    const w = fuse(sets, { method: 'wbf', iou: 0.55 });
    expect(w).toHaveLength(2);
    const a = w.find((f) => f.classId === 0)!;
    a.box.forEach((v, k) => expect(v).toBeCloseTo([0.4, 0.4, 10, 10][k]!, 10)); // x1 = (0.9*0 + 0.6*1) / 1.5
    expect(a.score).toBeCloseTo(0.75, 10); // (0.9 + 0.6) / 2 clusters x min(2, 2) / 2 models
    expect(a.from).toEqual([0, 1]);
    expect(w.find((f) => f.classId === 1)!.score).toBeCloseTo(0.4, 10); // one model of two agrees
    // Weights: set 0 counts three times as much.
    const weighted = fuse([{ ...sets[0]!, weight: 3 }, sets[1]!], { method: 'wbf', iou: 0.55 });
    expect(weighted.find((f) => f.classId === 0)!.score).toBeCloseTo((((2.7 + 0.6) / 2) * 2) / 4, 10);
    const n = fuse(sets, { method: 'nms', iou: 0.55 });
    expect(n.map((f) => [f.classId, f.score, f.from])).toEqual([
      [0, 0.9, [0, 1]],
      [1, 0.8, [1]],
    ]);
  });
});

describe('pseudo-label job and review', () => {
  it('labels unlabeled images as pending, resumes after a kill without duplicates, and reviews in bulk', async () => {
    const root = `${tmp.dir}/proj`;
    const files = await writeJpegs(`${root}/images`, 6, { width: S, height: S });
    const s = new Session();
    try {
      await call(s, 'project.create', { path: root });
      const addJob = await call(s, 'images.add', { paths: files });
      await s.jobs.wait(addJob.jobId);
      await call(s, 'classes.create', { name: 'person' });
      const store = s.requireProject();
      const [first, second] = store.images.list({}, 0, 10);
      // A manual label on one image: that image is labeled and never touched.
      await call(s, 'annotations.edit', {
        imageId: first!.id,
        ops: [{ op: 'create', classId: store.classes.byName('person')!.id, x: 1, y: 1, w: 5, h: 5 }],
      });

      const person = await call(s, 'teachers.add', { path: models.raw!, name: 'people' });
      expect(person.family).toBe('ultralytics-raw');
      const v5 = await call(s, 'teachers.add', {
        path: models.yolov5!,
        name: 'v5',
        names: ['face', 'hand'],
        classMap: { face: 'face', hand: null },
      });
      expect(store.classes.byName('face')).toBeDefined(); // created for the map
      await expect(call(s, 'teachers.add', { path: models.raw!, name: 'people' })).rejects.toThrow(
        /already registered/,
      );

      // Kill after the first chunk (2 images), then run the same request again.
      const req = {
        teachers: [person.id, v5.id],
        conf: 0.25,
        iou: 0.6,
        fuse: 'wbf' as const,
        only: 'unlabeled' as const,
        batch: 2,
      };
      let chunks = 0;
      const killing: JobContext = {
        signal: new AbortController().signal,
        progress: (done) => void (done > 0 && chunks++),
        throwIfCancelled: () => {
          if (chunks >= 1) throw new Error('killed');
        },
      };
      await expect(runPseudoLabel(store, req, killing)).rejects.toThrow('killed');
      const afterKill = store.pseudoLabels.counts().pending;
      expect(afterKill).toBe(2 * 2); // two images done, two fused boxes each
      const resumed = await runPseudoLabel(store, req, {
        signal: new AbortController().signal,
        progress: () => {},
        throwIfCancelled: () => {},
      });
      expect(resumed.resumed).toBe(2);
      expect(resumed.images).toBe(3);
      const pending = store.annotations.iterate(['pending']);
      const list = [...pending];
      expect(list).toHaveLength(5 * 2); // 5 unlabeled images x 2 fused boxes, no duplicates
      expect(new Set(list.map((a) => a.source))).toEqual(new Set(['teacher:people+v5']));
      // The manual box is untouched and its image got no pseudo-labels.
      expect(store.annotations.forImage(first!.id).map((a) => [a.source, a.review])).toEqual([['manual', 'accepted']]);
      // person (raw, 0.9) is seen by one teacher of two: WBF halves it; face (YOLOv5, 0.9 x 0.8) likewise.
      // raw's 'car' has no project class and v5's 'hand' is mapped to nothing: both are dropped.
      const scores = store.annotations.forImage(second!.id).map((a) => +a.score!.toFixed(4));
      expect(scores.sort()).toEqual([0.36, 0.45]);
      // Running again changes nothing: every image is done for this job key.
      const again = await runPseudoLabel(store, req, {
        signal: new AbortController().signal,
        progress: () => {},
        throwIfCancelled: () => {},
      });
      expect([again.images, again.resumed, [...store.annotations.iterate(['pending'])].length]).toEqual([0, 5, 10]);
      // Another job (a higher threshold) replaces these boxes; the first job run again must label every image
      // again, not skip them as done by an earlier run while its boxes are gone.
      const strict = await runPseudoLabel(store, { ...req, conf: 0.42 }, UNCANCELLABLE);
      expect([strict.images, strict.resumed, [...store.annotations.iterate(['pending'])].length]).toEqual([5, 0, 5]);
      const back = await runPseudoLabel(store, req, UNCANCELLABLE);
      expect([back.images, back.resumed, [...store.annotations.iterate(['pending'])].length]).toEqual([5, 0, 10]);
      // One teacher of the two on its own: its boxes come beside the ensemble's, which nobody has reviewed yet and
      // which stay (a run of one teacher never discards another's proposals). Run again, it replaces only its own.
      const bySource = () => {
        const n: Record<string, number> = {};
        for (const a of store.annotations.iterate(['pending'])) n[a.source] = (n[a.source] ?? 0) + 1;
        return n;
      };
      const solo = { ...req, teachers: [person.id] };
      await runPseudoLabel(store, solo, UNCANCELLABLE);
      const withSolo = bySource();
      expect(withSolo['teacher:people+v5']).toBe(10);
      expect(withSolo['teacher:people']).toBeGreaterThan(0);
      await runPseudoLabel(store, { ...solo, conf: 0.3 }, UNCANCELLABLE);
      expect(bySource()['teacher:people+v5']).toBe(10);
      expect(bySource()['teacher:people']).toBeLessThanOrEqual(withSolo['teacher:people']!);
      // Out of the way of the review below, which counts the ensemble's boxes.
      store.db.prepare("DELETE FROM annotations WHERE source = 'teacher:people'").run();

      // Review: accept person boxes >= 0.4, reject the rest of the person boxes; change the threshold later.
      const personId = store.classes.byName('person')!.id;
      const events: string[] = [];
      const off = s.onEvent((e) => e.event === 'project.changed' && events.push((e.data as { what: string }).what));
      expect((await call(s, 'review.set', { state: 'accepted', classId: personId, minScore: 0.4 })).changed).toBe(5);
      expect(events).toEqual(['annotations']); // open views (the gallery) refresh
      off();
      expect((await call(s, 'review.set', { state: 'rejected', maxScore: 0.4 })).changed).toBe(5);
      let c = await call(s, 'review.counts', {});
      expect([c.pending, c.accepted, c.rejected]).toEqual([0, 5, 5]);
      // A new threshold after the job: reopen the rejected faces, accept those of one image.
      expect((await call(s, 'review.set', { state: 'pending', maxScore: 0.4 })).changed).toBe(5);
      expect((await call(s, 'review.set', { state: 'accepted', minScore: 0.2, imageId: second!.id })).changed).toBe(1);
      c = await call(s, 'review.counts', {});
      expect([c.pending, c.accepted, c.rejected]).toEqual([4, 6, 0]);
      // Deciding boxes completes no image: the user marks it done.
      expect(store.images.get(second!.id).status).toBe('unlabeled');
      expect(await call(s, 'images.markDone', { ids: [second!.id] })).toEqual({ images: 1, rejected: 0 });
      expect(store.images.get(second!.id).status).toBe('reviewed');
      // Accepted pseudo-labels are training labels.
      const { projectSources } = await import('../../src-main/train/loader.js');
      expect(
        projectSources(store).sources.find((x) => x.file.endsWith(path.basename(second!.path)))!.boxes,
      ).toHaveLength(2);
    } finally {
      await s.dispose();
    }
  }, 120_000);

  it('skips an unreadable image with its path, writes nothing for it, and retries it on the next run', async () => {
    const root = `${tmp.dir}/corrupt`;
    const [good] = await writeJpegs(`${root}/images`, 1, { width: S, height: S });
    const store = ProjectStore.create(root);
    try {
      store.classes.create('person');
      const bad = `${root}/images/broken.jpg`;
      fs.writeFileSync(bad, 'not a jpeg');
      store.images.addMany([
        { path: store.storedPath(good!), hash: 'g', width: S, height: S },
        { path: store.storedPath(bad), hash: 'b', width: S, height: S },
      ]);
      const probe = await probeTeacher(models.raw!);
      const t = store.teachers.add('people', models.raw!, probe.family, {
        ...probe,
        classMap: {},
        weight: 1,
        tta: false,
      });
      const ctx = { signal: new AbortController().signal, progress: () => {}, throwIfCancelled: () => {} };
      const req = { teachers: [t.id], conf: 0.25, iou: 0.6, fuse: 'nms' as const, only: 'unlabeled' as const };
      const r = await runPseudoLabel(store, req, ctx);
      expect(r.skipped).toHaveLength(1);
      expect(r.skipped[0]!.problem).toMatch(/broken\.jpg: cannot decode/);
      expect(r.images).toBe(1);
      const badId = store.images.byPath(store.storedPath(bad))!.id;
      expect(store.annotations.forImage(badId)).toEqual([]);
      expect(store.pseudoLabels.counts().pending).toBe(1); // the good image's person box
      // Not marked done: the next run of the same job tries it again (and skips it again).
      const again = await runPseudoLabel(store, req, ctx);
      expect([again.resumed, again.skipped.length]).toEqual([1, 1]);
    } finally {
      store.close();
    }
  });

  it('measures pseudo-labels against hidden ground truth', async () => {
    const root = `${tmp.dir}/hidden`;
    const files = await writeJpegs(`${root}/images`, 2, { width: S, height: S });
    const store = ProjectStore.create(root);
    try {
      const cls = store.classes.create('circle');
      store.images.addMany(files.map((f) => ({ path: store.storedPath(f), hash: f, width: S, height: S })));
      const ims = store.images.list({}, 0, 10);
      fs.mkdirSync(`${root}/hidden`);
      fs.writeFileSync(
        `${root}/hidden/gt.json`,
        JSON.stringify({
          images: ims.map((im, i) => ({ id: i + 1, file_name: im.path })),
          categories: [{ id: 1, name: 'circle' }],
          annotations: [
            { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10] },
            { id: 2, image_id: 1, category_id: 1, bbox: [30, 30, 10, 10] },
            { id: 3, image_id: 2, category_id: 1, bbox: [5, 5, 20, 20] },
          ],
        }),
      );
      store.setSetting('sample', { hiddenGroundTruth: 'hidden/gt.json' });
      expect(pseudoLabelQuality(store)).toBeNull(); // no teacher boxes yet
      const t = (imageId: number, x: number, y: number, w: number, score: number) => ({
        imageId,
        classId: cls.id,
        x,
        y,
        w,
        h: w,
        score,
        source: 'teacher:t',
        review: 'pending' as const,
      });
      store.annotations.addMany([
        t(ims[0]!.id, 0, 0, 10, 0.9),
        t(ims[0]!.id, 50, 50, 5, 0.3),
        t(ims[1]!.id, 6, 6, 20, 0.6),
      ]);
      const q = pseudoLabelQuality(store)!;
      expect([q.images, q.truths, q.boxes]).toEqual([2, 3, 3]);
      const at = (score: number) => q.thresholds.find((x) => x.score === score)!;
      expect([at(0.25).precision, at(0.25).recall]).toEqual([2 / 3, 2 / 3]);
      expect([at(0.5).precision, at(0.5).recall, at(0.5).boxes]).toEqual([1, 2 / 3, 2]);
      expect(at(0.75).boxes).toBe(1);
      expect(q.ap50).toBeGreaterThan(0.6);
    } finally {
      store.close();
    }
  });
});

describe('broken teachers', () => {
  it('are refused at registration when they answer NaN or infinity, naming the model and the output', async () => {
    const inf = constantModel(`${tmp.dir}/inf.onnx`, {
      output0: { shape: [6, 8], data: [Infinity, ...new Array(47).fill(0.5)] },
    });
    await expect(probeTeacher(inf)).rejects.toThrow(
      /inf\.onnx: its output output0 \[1, 6, 8\] holds Infinity \(at 0\) on a plain gray image: not usable as a teacher/,
    );
  });

  it('predict drops class ids the model does not have and boxes with nothing in the image, and counts them', async () => {
    // [B, max_det, 6] rows: a good box, class 7 of a 2-class model, a negative size, a 1e38 box far outside.
    const model = constantModel(
      `${tmp.dir}/odd-rows.onnx`,
      {
        output0: {
          shape: [4, 6],
          data: [
            22, 27, 42, 37, 0.9, 0, 10, 10, 20, 20, 0.8, 7, 30, 30, 20, 20, 0.7, 1, 1e38, 1e38, 2e38, 2e38, 0.6, 0,
          ],
        },
      },
      { names: "{0: 'person', 1: 'car'}" },
    );
    const [p] = await predict(model, [square], { conf: 0.25, iou: 0.5, maxDet: 100 });
    expect(p!.detections.map((d) => d.name)).toEqual(['person']);
    expect(p!.dropped).toEqual({ unknownClass: 1, badBox: 2 });
  });
});
