import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src-main/store/project.js';
import { datasetHealth } from '../../src-main/store/health.js';
import { tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

function seeded(): ProjectStore {
  const s = ProjectStore.create(tmp.dir, 'demo');
  s.classes.create('cat');
  s.classes.create('dog');
  s.images.addMany([
    { path: 'a.jpg', hash: 'h1', width: 100, height: 80 },
    { path: 'b.jpg', hash: 'h2', width: 100, height: 80, split: 'val' },
  ]);
  return s;
}

describe('project store', () => {
  it('creates a WAL SQLite file with foreign keys and reopens it', () => {
    const s = seeded();
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    s.close();
    const again = ProjectStore.open(tmp.dir);
    expect(again.settings().name).toBe('demo');
    expect(again.classes.list().map((c) => c.name)).toEqual(['cat', 'dog']);
    expect(again.counts().bySplit).toEqual({ train: 1, val: 1, test: 0 });
    again.close();
  });

  it('refuses files that are not Starling projects, with the file named', () => {
    const junk = path.join(tmp.dir, 'junk.starling');
    fs.writeFileSync(junk, 'this is not sqlite at all, just text '.repeat(100));
    expect(() => ProjectStore.open(junk)).toThrow(/junk\.starling: not a Starling project/);
    expect(() => ProjectStore.open(path.join(tmp.dir, 'missing.starling'))).toThrow(/no such project file/);
  });

  it('refuses a project written by a newer schema', () => {
    const s = seeded();
    s.db.pragma('user_version = 999');
    s.close();
    expect(() => ProjectStore.open(tmp.dir)).toThrow(/newer than this Starling/);
  });

  it('rewrites run settings stored before they had sections (migration 5), and refuses a run that fits nothing', () => {
    const s = seeded();
    const legacy = {
      config: { model: 'yolo11', scale: 's', backbone: 'shufflenetv2_x0_5', head: 'centernet', nc: 3 },
      imgsz: 256,
      epochs: 12,
      batch: 4,
      lr0: 0.002,
      optimizer: 'AdamW',
      device: 'cpu',
      seed: 3,
      patience: 7,
      lrSchedule: 'cosine',
      warmupEpochs: 1,
      warmupMinIters: 0,
      closeMosaic: 2,
      mosaic: 0,
      valEvery: 4,
      timeLimit: 90,
      includePending: true,
    };
    const insert = s.db.prepare(
      "INSERT INTO runs (name, status, config, created_at, updated_at) VALUES (?, 'done', ?, 0, 0)",
    );
    const old = Number(insert.run('old', JSON.stringify(legacy)).lastInsertRowid);
    // As an earlier Starling left the file: schema 4, with its jobs table.
    s.db.exec('CREATE TABLE jobs (id TEXT PRIMARY KEY)');
    s.db.exec('DROP TABLE class_ops; DROP TABLE image_trash; ALTER TABLE runs DROP COLUMN note'); // migration 6's
    s.db.pragma('user_version = 4');
    s.close();
    const r = ProjectStore.open(tmp.dir);
    try {
      expect(r.runs.get(old).settings).toMatchObject({
        model: legacy.config,
        data: { imgsz: 256, batch: 4, includePending: true, pendingWeight: 0.5 },
        augment: { mosaic: 0, closeMosaic: 2, fliplr: 0.5 },
        optimizer: { name: 'AdamW', lr0: 0.002, schedule: 'cosine', warmupEpochs: 1, warmupMinIters: 0 },
        budget: { epochs: 12, patience: 7, valEvery: 4, minutes: 1.5 },
        seed: 3,
        device: 'cpu',
      });
      expect(r.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'jobs'").get()).toBeUndefined();
      r.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify({ data: { imgsz: 33 } }), old);
      expect(() => r.runs.get(old)).toThrow(/run 1: its stored settings do not fit \(data\.imgsz: /);
    } finally {
      r.close();
    }
  });

  it('completes an image a teacher labeled only when it is marked done, whether its boxes are decided one by one or in bulk', () => {
    const s = seeded();
    const cls = s.classes.list()[0]!.id;
    // An image with ten objects the teacher saw one of: accepting that one box must not complete the image.
    const image = (name: string) => {
      const [id] = s.images.addMany([{ path: `${name}.jpg`, hash: name, width: 50, height: 50 }]);
      const [teacher] = s.annotations.addMany([
        { imageId: id!, classId: cls, x: 1, y: 1, w: 5, h: 5, source: 'teacher:t', score: 0.9, review: 'pending' },
      ]);
      return { id: id!, teacher: teacher! };
    };
    const one = image('one');
    s.annotations.edit(one.id, [{ op: 'update', id: one.teacher, review: 'accepted' }]);
    expect(s.images.get(one.id).status).toBe('unlabeled');
    const bulk = image('bulk');
    expect(s.pseudoLabels.review({ imageId: bulk.id }, 'accepted')).toEqual({ changed: 1, doneImages: 0 });
    expect(s.images.get(bulk.id).status).toBe('unlabeled');
    // The user adds the missing boxes and marks it done: reviewed (a teacher's box is among its labels).
    s.annotations.edit(one.id, [{ op: 'create', classId: cls, x: 20, y: 20, w: 5, h: 5 }]);
    expect(s.images.get(one.id).status).toBe('unlabeled');
    expect(s.images.markDone([one.id], true)).toEqual({ images: 1, rejected: 0 });
    expect(s.images.get(one.id).status).toBe('reviewed');
    // Done rejects what is still pending; every teacher box rejected leaves hand-drawn labels: labeled.
    const rest = image('rest');
    s.annotations.edit(rest.id, [{ op: 'create', classId: cls, x: 20, y: 20, w: 5, h: 5 }]);
    expect(s.images.markDone([rest.id], true)).toEqual({ images: 1, rejected: 1 });
    expect(s.images.get(rest.id).status).toBe('labeled');
    expect(s.annotations.get(rest.teacher).review).toBe('rejected');
    // A bulk accept that asks for it marks done the images it leaves with nothing pending; reopening undoes it.
    const asked = image('asked');
    expect(s.pseudoLabels.review({ imageId: asked.id }, 'accepted', { done: true })).toEqual({
      changed: 1,
      doneImages: 1,
    });
    expect(s.images.get(asked.id).status).toBe('reviewed');
    expect(s.images.markDone([asked.id, one.id], false)).toEqual({ images: 2, rejected: 0 });
    expect(s.images.get(asked.id).status).toBe('unlabeled');
    // An image no teacher touched is labeled by drawing on it, as before.
    const [hand] = s.images.addMany([{ path: 'hand.jpg', hash: 'hand', width: 50, height: 50 }]);
    s.annotations.edit(hand!, [{ op: 'create', classId: cls, x: 1, y: 1, w: 5, h: 5 }]);
    expect(s.images.get(hand!).status).toBe('labeled');
    s.close();
  });

  it('stores paths relative to the root when inside it', () => {
    const s = seeded();
    expect(s.storedPath(path.join(tmp.dir, 'sub', 'x.jpg'))).toBe('sub/x.jpg');
    expect(s.storedPath('/elsewhere/x.jpg')).toBe('/elsewhere/x.jpg');
    expect(s.absolutePath('sub/x.jpg')).toBe(path.join(tmp.dir, 'sub', 'x.jpg'));
    s.close();
  });

  it('rolls back a multi-row insert that fails part way', () => {
    const s = seeded();
    expect(() =>
      s.images.addMany([
        { path: 'c.jpg', hash: 'h3', width: 10, height: 10 },
        { path: 'a.jpg', hash: 'dup', width: 10, height: 10 },
      ]),
    ).toThrow(/a\.jpg: this image is already in the project/);
    expect(s.images.byPath('c.jpg')).toBeUndefined();
    s.close();
  });

  it('refuses to delete a class that still has boxes unless they are reassigned', () => {
    const s = seeded();
    const [cat, dog] = s.classes.list();
    const img = s.images.byPath('a.jpg')!;
    s.annotations.addMany([{ imageId: img.id, classId: cat!.id, x: 1, y: 1, w: 5, h: 5 }]);
    expect(() => s.classes.delete(cat!.id)).toThrow(/still has 1 annotations/);
    s.classes.delete(cat!.id, dog!.id);
    expect(s.annotations.forImage(img.id)[0]!.classId).toBe(dog!.id);
    s.close();
  });

  it('deletes a class with its boxes and merges one into another, each undone with the same ids', () => {
    const s = seeded();
    const [cat, dog] = s.classes.list();
    const bird = s.classes.create('bird');
    const [a, b] = [s.images.byPath('a.jpg')!, s.images.byPath('b.jpg')!];
    const box = (imageId: number, classId: number, x: number) => ({ imageId, classId, x, y: 1, w: 5, h: 5 });
    const catBoxes = s.annotations.addMany([box(a.id, cat!.id, 1), box(a.id, cat!.id, 20), box(b.id, cat!.id, 1)]);
    s.annotations.addMany([box(a.id, dog!.id, 40)]);
    const birdBoxes = s.annotations.addMany([box(b.id, bird.id, 30)]);
    const before = s.annotations.forImage(a.id);
    expect(s.classes.usage(cat!.id)).toEqual({ boxes: 3, accepted: 3, pending: 0, rejected: 0, images: 2 });

    expect(s.classes.removeWithBoxes(cat!.id)).toMatchObject({ kind: 'delete', name: 'cat', boxes: 3 });
    expect(s.classes.list().map((c) => c.name)).toEqual(['dog', 'bird']);
    expect(s.annotations.forImage(a.id)).toHaveLength(1);
    expect(s.classes.merge(bird.id, dog!.id)).toMatchObject({ kind: 'merge', boxes: 1 });
    expect(s.annotations.get(birdBoxes[0]!).classId).toBe(dog!.id);
    expect(s.classes.lastOp()).toMatchObject({ kind: 'merge', name: 'bird', boxes: 1 });

    // Undo the merge, then the delete: everything back as it was, ids and order included.
    expect(s.classes.undoLastOp()).toMatchObject({ kind: 'merge', name: 'bird', boxes: 1, undone: true });
    expect(s.annotations.get(birdBoxes[0]!).classId).toBe(bird.id);
    expect(s.classes.undoLastOp()).toMatchObject({ kind: 'delete', name: 'cat', boxes: 3 });
    expect(s.classes.list().map((c) => [c.id, c.name])).toEqual([
      [cat!.id, 'cat'],
      [dog!.id, 'dog'],
      [bird.id, 'bird'],
    ]);
    expect(s.annotations.forImage(a.id)).toEqual(before);
    expect(s.annotations.get(catBoxes[2]!).imageId).toBe(b.id);
    expect(s.classes.undoLastOp()).toBeNull();

    // A class of the same name made since blocks the undo, with the reason.
    s.classes.removeWithBoxes(cat!.id);
    s.classes.create('cat');
    expect(() => s.classes.undoLastOp()).toThrow(/a class named "cat" exists again/);
    expect(() => s.classes.merge(dog!.id, dog!.id)).toThrow(/into itself/);
    s.close();
  });

  it('deletes images with their boxes into a trash that undo empties back, ids and all', () => {
    const s = seeded();
    const [cat] = s.classes.list();
    const [a, b] = [s.images.byPath('a.jpg')!, s.images.byPath('b.jpg')!];
    s.annotations.addMany([
      { imageId: a.id, classId: cat!.id, x: 1, y: 1, w: 5, h: 5 },
      { imageId: b.id, classId: cat!.id, x: 2, y: 2, w: 5, h: 5 },
    ]);
    const before = [s.images.get(a.id), s.annotations.forImage(a.id)];
    expect(s.images.deleteToTrash([a.id, b.id])).toEqual({ images: 2, boxes: 2 });
    expect(s.images.count()).toBe(0);
    expect(s.counts().annotations.accepted).toBe(0);
    expect(() => s.images.deleteToTrash([a.id])).toThrow(/image \d+ does not exist/);
    expect(s.images.undoDelete()).toEqual({ images: 2, boxes: 2, skipped: 0 });
    expect([s.images.get(a.id), s.annotations.forImage(a.id)]).toEqual(before);
    expect(s.images.undoDelete()).toBeNull();
    // An image added again at the same path since the delete stays; the trashed one is skipped.
    s.images.deleteToTrash([b.id]);
    s.images.addMany([{ path: 'b.jpg', hash: 'h9', width: 10, height: 10 }]);
    expect(s.images.undoDelete()).toEqual({ images: 0, boxes: 0, skipped: 1 });
    expect(s.images.byPath('b.jpg')!.hash).toBe('h9');
    s.close();
  });

  it('reports dataset health: balance, sizes and aspects by split, duplicates, edge and tiny boxes', () => {
    const s = seeded(); // a.jpg (train) and b.jpg (val), 100 x 80
    const [cat, dog] = s.classes.list();
    const [a, b] = [s.images.byPath('a.jpg')!, s.images.byPath('b.jpg')!];
    s.images.addMany([{ path: 'c.jpg', hash: 'h1', width: 100, height: 80, split: 'test' }]); // a.jpg's content
    s.annotations.addMany([
      { imageId: a.id, classId: cat!.id, x: 0, y: 10, w: 40, h: 10 }, // touches the left edge; 20 px, aspect 4
      { imageId: a.id, classId: dog!.id, x: 50, y: 30, w: 3, h: 3 }, // tiny
      { imageId: b.id, classId: cat!.id, x: 20, y: 20, w: 30, h: 30 },
      { imageId: b.id, classId: cat!.id, x: 60, y: 20, w: 10, h: 10, source: 'teacher:t', review: 'pending' },
    ]);
    const h = datasetHealth(s.db);
    const [train, val, test] = h.splits;
    expect([train!.images, train!.boxes, val!.boxes, test!.images]).toEqual([1, 2, 1, 1]);
    expect(train!.perClass.map((c) => [c.name, c.boxes])).toEqual([
      ['cat', 1],
      ['dog', 1],
    ]);
    const count = (bins: { lo: number; count: number }[], lo: number) => bins.find((x) => x.lo === lo)!.count;
    expect(count(train!.side, 16)).toBe(1); // sqrt(400) = 20
    expect(count(train!.side, 0)).toBe(1); // 3 px
    expect(count(train!.aspect, 4)).toBe(1);
    expect(h.edgeBoxes.count).toBe(1);
    expect(h.tinyBoxes.examples.map((x) => x.path)).toEqual(['a.jpg']);
    expect(h.duplicates).toEqual([
      {
        hash: 'h1',
        crossSplit: true,
        images: [expect.objectContaining({ path: 'a.jpg' }), expect.objectContaining({ path: 'c.jpg' })],
      },
    ]);
    expect(h.pending).toBe(1);
    s.close();
  });

  it('orders the gallery by name or as added, either way, and walks and counts in that order', () => {
    const s = ProjectStore.create(tmp.dir, 'sorting');
    // Added in the order c, a, d, b.
    const [c, a, d, b] = s.images.addMany(
      ['c', 'a', 'd', 'b'].map((n) => ({ path: `${n}.jpg`, hash: n, width: 10, height: 10 })),
    );
    const names = (sort?: 'added' | '-added' | 'name' | '-name') => s.images.list({ sort }).map((im) => im.path[0]);
    expect(names()).toEqual(['c', 'a', 'd', 'b']);
    expect(names('-added')).toEqual(['b', 'd', 'a', 'c']);
    expect(names('name')).toEqual(['a', 'b', 'c', 'd']);
    expect(names('-name')).toEqual(['d', 'c', 'b', 'a']);
    expect(s.images.ids({ sort: 'name' })).toEqual([a, b, c, d]);
    expect(s.images.around(b!, { sort: 'name' })).toEqual({ prev: a, next: c });
    expect(s.images.around(d!, { sort: 'name' }, true)).toEqual({ prev: c, next: a });
    expect(s.images.around(a!, { sort: '-name' }, true)).toEqual({ prev: b, next: d });
    expect(s.images.around(c!, { sort: '-added' })).toEqual({ prev: a, next: null });
    expect(s.images.indexOf(c!, { sort: 'name' })).toBe(2);
    expect(s.images.indexOf(c!, { sort: '-name' })).toBe(1);
    s.close();
  });

  it('filters images by status, class, source and score', () => {
    const s = seeded();
    const [cat, dog] = s.classes.list();
    const a = s.images.byPath('a.jpg')!;
    const b = s.images.byPath('b.jpg')!;
    s.annotations.addMany([
      { imageId: a.id, classId: cat!.id, x: 0, y: 0, w: 5, h: 5 },
      { imageId: b.id, classId: dog!.id, x: 0, y: 0, w: 5, h: 5, source: 'teacher:1', score: 0.4, review: 'pending' },
    ]);
    expect(s.images.list({ status: 'pending' }).map((i) => i.path)).toEqual(['b.jpg']);
    expect(s.images.list({ classId: cat!.id }).map((i) => i.path)).toEqual(['a.jpg']);
    expect(s.images.list({ source: 'teacher' }).map((i) => i.path)).toEqual(['b.jpg']);
    expect(s.images.count({ minScore: 0.5 })).toBe(0);
    expect(s.images.count({ minScore: 0.3, maxScore: 0.5 })).toBe(1);
    expect(s.images.indexOf(b.id)).toBe(1);
    expect(s.images.indexOf(b.id, { split: 'train' })).toBe(-1);
    s.close();
  });

  it('counts each filter choice with the other filters applied (faceted counts)', () => {
    const s = seeded();
    const [cat, dog] = s.classes.list();
    const a = s.images.byPath('a.jpg')!.id; // train
    const b = s.images.byPath('b.jpg')!.id; // val
    const [c] = s.images.addMany([{ path: 'c.jpg', hash: 'h3', width: 10, height: 10, split: 'val' }]);
    s.annotations.addMany([
      { imageId: a, classId: cat!.id, x: 0, y: 0, w: 5, h: 5 },
      { imageId: b, classId: cat!.id, x: 0, y: 0, w: 5, h: 5, source: 'teacher:1', score: 0.9, review: 'pending' },
      { imageId: b, classId: dog!.id, x: 0, y: 0, w: 5, h: 5, source: 'teacher:1', score: 0.3, review: 'pending' },
      { imageId: c!, classId: dog!.id, x: 0, y: 0, w: 5, h: 5, review: 'rejected' }, // a rejected box counts nowhere
    ]);
    const all = s.images.facets({});
    expect(all).toMatchObject({ split: { train: 1, val: 2 }, status: { unlabeled: 3, pending: 1 }, total: 3 });
    expect(all.classes).toEqual([
      { classId: cat!.id, images: 2 },
      { classId: dog!.id, images: 1 },
    ]);
    expect(all.source).toEqual({ manual: 1, teacher: 1 });
    // With split val chosen: the split menu still counts every split; the others count val images only.
    const val = s.images.facets({ split: 'val' });
    expect(val.split).toEqual({ train: 1, val: 2 });
    expect(val.classes).toEqual([
      { classId: cat!.id, images: 1 },
      { classId: dog!.id, images: 1 },
    ]);
    expect(val.source).toEqual({ teacher: 1 });
    expect(val.total).toBe(2);
    // Class, source and score talk about the same box: dog boxes scoring 0.5 or more are on no image.
    const sure = s.images.facets({ minScore: 0.5 });
    expect(sure.classes).toEqual([{ classId: cat!.id, images: 1 }]);
    expect(s.images.facets({ minScore: 0.5, classId: dog!.id }).total).toBe(0);
    s.close();
  });

  it('filters 20,000 images with 60,000 boxes by class and score without scanning the boxes once per image', () => {
    const s = ProjectStore.create(`${tmp.dir}/big`, 'big');
    const classIds = Array.from({ length: 20 }, (_, i) => s.classes.create(`c${i}`).id);
    const ids = s.images.addMany(
      Array.from({ length: 20_000 }, (_, i) => ({ path: `i${i}.jpg`, hash: `h${i}`, width: 9, height: 9 })),
    );
    s.annotations.addMany(
      ids.flatMap((imageId, k) =>
        [0, 1, 2].map((j) => ({ imageId, classId: classIds[(k + j * 7) % 20]!, x: 0, y: 0, w: 5, h: 5, score: j / 3 })),
      ),
    );
    // A plan that scans the class's 3,000 boxes for each of 20,000 images takes seconds; a sound one, milliseconds.
    const t = performance.now();
    expect(s.images.count({ classId: classIds[3]! })).toBe(3000);
    expect(s.images.list({ classId: classIds[3]!, minScore: 0.5 }, 500, 10)).toHaveLength(10);
    s.images.facets({ classId: classIds[3]!, status: 'unlabeled' });
    expect(performance.now() - t).toBeLessThan(1500);
    s.close();
  });

  it('finds the neighbours of an image in a filtered walk, from outside it too, going round when asked', () => {
    const s = seeded();
    const [cat] = s.classes.list();
    const [c, d, e] = s.images.addMany(
      ['c', 'd', 'e'].map((n, i) => ({ path: `${n}.jpg`, hash: `x${i}`, width: 9, height: 9 })),
    );
    const a = s.images.byPath('a.jpg')!.id;
    const pending = {
      classId: cat!.id,
      x: 0,
      y: 0,
      w: 5,
      h: 5,
      source: 'teacher:1',
      score: 0.5,
      review: 'pending' as const,
    };
    s.annotations.addMany([a, d!, e!].map((imageId) => ({ ...pending, imageId })));
    const queue = { status: 'pending' as const };
    expect(s.images.around(d!, queue)).toEqual({ prev: a, next: e });
    // c has no pending boxes (its last one was just decided): the walk still goes on from where it is.
    expect(s.images.around(c!, queue)).toEqual({ prev: a, next: d });
    expect(s.images.around(e!, queue)).toEqual({ prev: d, next: null });
    expect(s.images.around(e!, queue, true)).toEqual({ prev: d, next: a });
    expect(s.images.around(a, queue, true)).toEqual({ prev: e, next: d });
    // The only image of a walk has no neighbours, round or not.
    expect(s.images.around(a, { classId: 999 }, true)).toEqual({ prev: null, next: null });
    s.close();
  });
});

describe('annotation history', () => {
  it('refuses a created box with a bad source by name, saving nothing of the edit', () => {
    const s = seeded();
    const [cat] = s.classes.list();
    const img = s.images.byPath('a.jpg')!;
    const box = { op: 'create' as const, classId: cat!.id, x: 1, y: 1, w: 5, h: 5 };
    expect(() =>
      s.annotations.edit(img.id, [box, { ...box, source: 'run:1', review: 'rejected' }], 'from prediction'),
    ).toThrow('new box: bad source "run:1"');
    expect(s.annotations.forImage(img.id)).toHaveLength(0);
    expect(s.annotations.historyState(img.id).canUndo).toBe(false);
    const ok = s.annotations.edit(img.id, [{ ...box, source: 'model:1', score: 0.8, review: 'rejected' }]);
    expect(ok.annotations).toMatchObject([{ source: 'model:1', score: 0.8, review: 'rejected' }]);
    s.close();
  });

  it('undoes and redoes edits per image, across a reopen', () => {
    const s = seeded();
    const [cat, dog] = s.classes.list();
    const img = s.images.byPath('a.jpg')!;
    const r1 = s.annotations.edit(img.id, [{ op: 'create', classId: cat!.id, x: 10, y: 10, w: 20, h: 20 }], 'draw');
    const id = r1.created[0]!;
    expect(s.images.get(img.id).status).toBe('labeled');
    s.annotations.edit(img.id, [{ op: 'update', id, x: 30, classId: dog!.id }], 'move');
    s.annotations.edit(img.id, [{ op: 'delete', id }], 'delete');
    expect(s.annotations.forImage(img.id)).toHaveLength(0);
    s.close();

    const t = ProjectStore.open(tmp.dir);
    let st = t.annotations.undo(img.id); // undo delete
    expect(st.annotations).toMatchObject([{ id, x: 30, classId: dog!.id }]);
    st = t.annotations.undo(img.id); // undo move
    expect(st.annotations).toMatchObject([{ id, x: 10, classId: cat!.id }]);
    st = t.annotations.undo(img.id); // undo create
    expect(st.annotations).toHaveLength(0);
    expect(st.canUndo).toBe(false);
    expect(t.annotations.undo(img.id).changed).toBe(false);
    st = t.annotations.redo(img.id);
    expect(st.annotations).toMatchObject([{ id, x: 10 }]);
    st = t.annotations.redo(img.id);
    expect(st.annotations).toMatchObject([{ id, x: 30 }]);
    expect(st.canRedo).toBe(true);
    // A new edit drops the redo branch.
    t.annotations.edit(img.id, [{ op: 'update', id, w: 5 }]);
    expect(t.annotations.historyState(img.id)).toEqual({ canUndo: true, canRedo: false });
    t.close();
  });

  it('never reuses an annotation id, so redo cannot clobber another image', () => {
    const s = seeded();
    const [cat] = s.classes.list();
    const a = s.images.byPath('a.jpg')!;
    const b = s.images.byPath('b.jpg')!;
    const { created } = s.annotations.edit(a.id, [{ op: 'create', classId: cat!.id, x: 1, y: 1, w: 2, h: 2 }]);
    s.annotations.undo(a.id);
    const other = s.annotations.edit(b.id, [{ op: 'create', classId: cat!.id, x: 5, y: 5, w: 2, h: 2 }]);
    expect(other.created[0]).not.toBe(created[0]);
    s.annotations.redo(a.id);
    expect(s.annotations.forImage(b.id)).toHaveLength(1);
    expect(s.annotations.forImage(a.id)).toHaveLength(1);
    s.close();
  });

  it('rejects an edit with a non-finite box and leaves the image untouched', () => {
    const s = seeded();
    const [cat] = s.classes.list();
    const a = s.images.byPath('a.jpg')!;
    expect(() =>
      s.annotations.edit(a.id, [
        { op: 'create', classId: cat!.id, x: 1, y: 1, w: 2, h: 2 },
        { op: 'create', classId: cat!.id, x: NaN, y: 1, w: 2, h: 2 },
      ]),
    ).toThrow(/not a finite number/);
    expect(s.annotations.forImage(a.id)).toHaveLength(0);
    expect(s.annotations.historyState(a.id).canUndo).toBe(false);
    s.close();
  });

  it('cuts a box to the image, and refuses one that lies wholly outside it, saving nothing of the edit', () => {
    const s = seeded();
    const [cat] = s.classes.list();
    const a = s.images.byPath('a.jpg')!; // 100 x 80
    const { created } = s.annotations.edit(a.id, [{ op: 'create', classId: cat!.id, x: -10, y: 70, w: 30, h: 30 }]);
    expect(s.annotations.get(created[0]!)).toMatchObject({ x: 0, y: 70, w: 20, h: 10 });
    expect(() =>
      s.annotations.edit(a.id, [
        { op: 'create', classId: cat!.id, x: 1, y: 1, w: 2, h: 2 },
        { op: 'create', classId: cat!.id, x: 120, y: 10, w: 20, h: 20 },
      ]),
    ).toThrow(/new box: the box \(120\.0, 10\.0, 20\.0 x 20\.0\) lies outside the 100 x 80 image/);
    expect(() => s.annotations.edit(a.id, [{ op: 'update', id: created[0]!, x: -50 }])).toThrow(/lies outside/);
    expect(s.annotations.forImage(a.id)).toHaveLength(1);
    s.annotations.edit(a.id, [{ op: 'update', id: created[0]!, x: 90 }]);
    expect(s.annotations.get(created[0]!)).toMatchObject({ x: 90, w: 10 });
    s.close();
  });
});
