/**
 * The annotator's editor state without a browser or Konva, against a real project through the real API: the
 * edit queue (each edit from the saved state, edits kept with the image they were made on), undo, the walk, review
 * decisions, the clipboard, and a late open being dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { Session } from '../../src-main/api/session.js';
import type { ClassRecord } from '../../src-main/store/types.js';
import { AnnotatorEditor, type Backend } from '../../src-renderer/src/lib/annotator/editor.svelte.js';
import { tempDir, writeJpegs } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
let session: Session;
let ids: number[];
let classes: ClassRecord[];
const backend: Backend = { call: (m, i) => call(session, m, i) };

beforeAll(async () => {
  tmp = tempDir();
  process.env.STARLING_HOME = `${tmp.dir}/home`;
  session = new Session();
  await call(session, 'project.create', { path: `${tmp.dir}/p` });
  await writeJpegs(`${tmp.dir}/p/images`, 3, { width: 100, height: 80 });
  await session.jobs.wait((await call(session, 'images.add', { paths: [`${tmp.dir}/p/images`] })).jobId);
  await call(session, 'classes.create', { name: 'cat' });
  await call(session, 'classes.create', { name: 'dog' });
  classes = await call(session, 'classes.list', {});
  ids = (await call(session, 'images.list', {})).items.map((i) => i.id);
});
afterAll(async () => {
  await session.dispose();
  tmp.cleanup();
});

function editor(o: { review?: boolean; confirm?: boolean; done?: boolean } = {}) {
  const went: number[] = [];
  const e = new AnnotatorEditor({
    backend,
    review: o.review ?? false,
    classes: () => classes,
    walkFilter: () => ({}),
    go: (id) => went.push(id),
    ask: () => Promise.resolve({ ok: o.confirm ?? true, checked: o.done ?? false }),
  });
  e.currentClass = classes[0]!.id;
  return { e, went };
}

describe('annotator editor state', () => {
  it('saves edits in order from the saved state, undoes them, and keeps an edit with its image', async () => {
    const { e } = editor();
    await e.open(ids[0]!, Promise.resolve(null));
    await e.create({ x: 10, y: 10, w: 20, h: 20 });
    const id = e.selectedId!;
    expect(e.detail!.annotations.map((a) => a.id)).toEqual([id]);
    // Two nudges queued at once: the second starts from where the first left the box.
    e.nudge(1, 0);
    e.nudge(0, 2);
    await e.move(id, 30, 30).then(() => e.history('undo')); // the move, then its undo
    expect(e.detail!.annotations[0]).toMatchObject({ x: 11, y: 12 });
    e.useClass(1);
    await e.save([], 'nothing');
    expect(e.detail!.annotations[0]!.classId).toBe(classes[1]!.id);
    await e.history('undo');
    await e.history('undo');
    await e.history('undo');
    expect(e.detail!.annotations[0]).toMatchObject({ x: 10, y: 10 });
    // An edit made just before switching image is saved to the image it was made on.
    const saving = e.move(id, 50, 40);
    await e.open(ids[1]!, Promise.resolve(null));
    await saving;
    expect((await call(session, 'images.get', { id: ids[0]! })).annotations[0]).toMatchObject({ x: 50, y: 40 });
    expect(e.detail!.image.id).toBe(ids[1]);
    expect(e.detail!.annotations).toEqual([]);
  });

  it('drops an open that answers after a later one, and opens an image whose pixels fail with its boxes', async () => {
    const { e } = editor();
    let release!: () => void;
    const slow = e.open(ids[0]!, new Promise<null>((r) => (release = () => r(null))));
    const fast = await e.open(ids[2]!, Promise.resolve(null));
    release();
    expect(await slow).toEqual({ dropped: true });
    expect(fast.dropped).toBe(false);
    expect(e.detail!.image.id).toBe(ids[2]);
    await e.open(ids[0]!, Promise.reject(new Error('bad bytes')));
    expect(e.detail!.annotations).toHaveLength(1);
    expect(e.error).toMatch(/images\/img_000\.jpg: the image cannot be shown \(bad bytes\)/);
  });

  it('walks the review queue round, decides boxes, and bulk-accepts only after asking', async () => {
    const store = session.requireProject();
    const pending = (imageId: number, score: number) => ({
      imageId,
      classId: classes[0]!.id,
      x: 5,
      y: 5,
      w: 10,
      h: 10,
      source: 'teacher:t',
      score,
      review: 'pending' as const,
    });
    // The first image's only pending box is under the slider: the queue at 0.25 does not walk through it.
    store.annotations.addMany([
      pending(ids[1]!, 0.9),
      pending(ids[1]!, 0.1),
      pending(ids[2]!, 0.8),
      pending(ids[0]!, 0.1),
    ]);
    const { e, went } = editor({ review: true, confirm: false });
    await e.open(ids[1]!, Promise.resolve(null));
    expect(e.visible).toHaveLength(1); // the 0.1 box is under the slider
    expect(e.pendingCount).toBe(2);
    await e.step(1);
    await e.step(-1);
    expect(went).toEqual([ids[2], ids[2]]); // two images in the queue: both ways lead to the other
    await e.acceptVisible();
    expect(e.detail!.annotations.map((a) => a.review)).toEqual(['accepted', 'pending']);
    e.select(e.detail!.annotations[1]!.id);
    expect(e.selected).toBeNull(); // hidden by the slider: not the selection keys act on
    e.minScore = 0;
    e.removeSelected();
    await e.save([], 'flush');
    expect(e.detail!.annotations.map((a) => a.review)).toEqual(['accepted', 'rejected']);
    await e.acceptClassAbove(classes[0]!.id); // the user says no
    expect(store.annotations.forImage(ids[2]!)[0]!.review).toBe('pending');
    const yes = editor({ review: true, confirm: true }).e;
    await yes.open(ids[1]!, Promise.resolve(null));
    yes.minScore = 0.5;
    await yes.acceptClassAbove(classes[0]!.id);
    expect(yes.status).toMatch(/^Accepted 1 pending cat box\(es\) scoring ≥ 0\.50$/);
    expect(store.annotations.forImage(ids[2]!)[0]!.review).toBe('accepted');
    expect(store.images.get(ids[2]!).status).toBe('unlabeled'); // accepting completes no image
    // Reopen puts them back; a bulk accept that is told so marks done what it leaves with nothing pending.
    await yes.reopenClassAbove(classes[0]!.id);
    expect(store.annotations.forImage(ids[2]!)[0]!.review).toBe('pending');
    const doneToo = editor({ review: true, confirm: true, done: true }).e;
    await doneToo.open(ids[1]!, Promise.resolve(null));
    doneToo.minScore = 0.5;
    await doneToo.acceptClassAbove(classes[0]!.id);
    expect(doneToo.status).toMatch(/; 2 image\(s\) marked done$/);
    expect(store.images.get(ids[2]!).status).toBe('reviewed');
    await call(session, 'images.markDone', { ids: [ids[1]!], done: false });
    store.annotations.addMany([pending(ids[1]!, 0.7)]);

    // Done on the shown image: what is still pending is rejected, the image trains; in the queue the next opens.
    const q = editor({ review: true });
    await q.e.open(ids[1]!, Promise.resolve(null));
    expect(q.e.done).toBe(false);
    await q.e.markDone();
    expect(q.e.done).toBe(true);
    expect(q.e.status).toBe('Done: 1 pending box(es) rejected. No other image has pending boxes scoring ≥ 0.25.');
    expect(store.annotations.forImage(ids[1]!).some((a) => a.review === 'pending')).toBe(false);
    await q.e.markDone(false);
    expect(store.images.get(ids[1]!).status).toBe('unlabeled');
  });

  it('copies and pastes boxes, and copies the previous image boxes', async () => {
    const { e } = editor();
    await e.open(ids[0]!, Promise.resolve(null));
    e.select(null);
    e.copy();
    expect(e.status).toBe('Copied 1 box(es)');
    await e.open(ids[2]!, Promise.resolve(null));
    await e.paste();
    const pasted = e.detail!.annotations.find((a) => a.source === 'manual')!;
    expect(pasted).toMatchObject({ x: 50, y: 40, w: 20, h: 20 });
    await e.copyFromPrevious();
    expect(e.status).toMatch(/^Copied \d+ box\(es\) from the previous image$/);
  });
});
