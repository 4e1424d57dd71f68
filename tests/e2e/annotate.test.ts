import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import fs from 'node:fs';
import path from 'node:path';
import { seedInit } from '../../src-main/engine/nn.js';
import { exportDetector } from '../../src-main/export/detector.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Rng } from '../../src-main/util/random.js';
import { writeJpegs } from '../helpers.js';
import { artifactPath, startE2E, stopE2E, type E2E } from './browser.js';

let e: E2E | undefined;
let session: E2E['session'];
let server: E2E['server'];
let browser: Browser;
let ids: number[];
let cat: number;
let dog: number;

beforeAll(async () => {
  e = await startE2E(async (s, dir) => {
    session = s;
    await call(session, 'project.create', { path: `${dir}/proj`, name: 'annotator e2e' });
    await writeJpegs(`${dir}/proj/images`, 3, { width: 320, height: 240 });
    const { jobId } = await call(session, 'images.add', { paths: [`${dir}/proj/images`] });
    await session.jobs.wait(jobId);
    cat = (await call(session, 'classes.create', { name: 'cat' })).id;
    dog = (await call(session, 'classes.create', { name: 'dog' })).id;
    ids = (await call(session, 'images.list', {})).items.map((i) => i.id);
    // Pseudo-labels on the third image, as a teacher job leaves them.
    session.requireProject().annotations.addMany([
      {
        imageId: ids[2]!,
        classId: cat,
        x: 20,
        y: 30,
        w: 60,
        h: 50,
        source: 'teacher:t1',
        score: 0.9,
        review: 'pending',
      },
      {
        imageId: ids[2]!,
        classId: dog,
        x: 200,
        y: 120,
        w: 70,
        h: 60,
        source: 'teacher:t1',
        score: 0.4,
        review: 'pending',
      },
    ]);
  });
  ({ server, browser } = e);
});

afterAll(() => stopE2E(e));

/** Page coordinates of an image pixel, from the view transform the annotator publishes on its canvas. */
async function at(page: Page, x: number, y: number): Promise<{ x: number; y: number }> {
  const el = page.locator('[data-testid="annotator-canvas"]');
  const box = (await el.boundingBox())!;
  const [s, ox, oy] = await Promise.all(
    ['data-scale', 'data-x', 'data-y'].map(async (a) => Number(await el.getAttribute(a))),
  );
  return { x: box.x + ox! + x * s!, y: box.y + oy! + y * s! };
}

async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 4 });
  await page.mouse.up();
}

const annotations = async (imageId: number) => (await call(session, 'images.get', { id: imageId })).annotations;

async function openAnnotator(page: Page, hash: string) {
  await page.goto(`${server.openUrl}#/${hash}`);
  await page.waitForSelector('[data-testid="annotator-canvas"] canvas');
  // The view is fitted once the image has loaded.
  await expect
    .poll(async () => Number(await page.getAttribute('[data-testid="annotator-canvas"]', 'data-scale')))
    .not.toBe(1);
}

describe('annotator and review queue, end to end', () => {
  it('draws, resizes, reclassifies, deletes, undoes and redoes boxes, and finds them after a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const id = ids[0]!;
    await openAnnotator(page, `annotate/${id}`);

    // A drag that starts outside the image (in the canvas above it) draws nothing, even one that ends on it.
    await drag(page, await at(page, 150, -20), await at(page, 200, 60));
    await page.waitForTimeout(500); // a save would have answered by now
    expect(await annotations(id)).toHaveLength(0);

    await drag(page, await at(page, 40, 40), await at(page, 120, 100));
    await expect.poll(async () => (await annotations(id)).length).toBe(1);
    let [a] = await annotations(id);
    expect(a!.classId).toBe(cat); // the first class is current
    expect(Math.abs(a!.x - 40)).toBeLessThan(2);
    expect(Math.abs(a!.w - 80)).toBeLessThan(2);
    expect(Math.abs(a!.h - 60)).toBeLessThan(2);
    await page.screenshot({ path: artifactPath('annotate-drawn.png') });

    // The new box is selected (once its save answers with its id): drag its bottom-right handle.
    await page.waitForSelector(`[data-testid="annotator-canvas"][data-selected="${a!.id}"]`);
    await drag(page, await at(page, 120, 100), await at(page, 160, 140));
    await expect.poll(async () => Math.round((await annotations(id))[0]!.w)).toBeGreaterThan(110);
    [a] = await annotations(id);
    expect(Math.abs(a!.w - 120)).toBeLessThan(3);
    expect(Math.abs(a!.h - 100)).toBeLessThan(3);
    expect(Math.abs(a!.x - 40)).toBeLessThan(2);

    // Move it by dragging its inside, then nudge with an arrow key.
    await drag(page, await at(page, 80, 80), await at(page, 100, 90));
    await expect.poll(async () => Math.round((await annotations(id))[0]!.x)).toBe(60);
    await page.keyboard.press('ArrowRight');
    await expect.poll(async () => Math.round((await annotations(id))[0]!.x)).toBe(61);

    await page.keyboard.press('2');
    await expect.poll(async () => (await annotations(id))[0]!.classId).toBe(dog);

    // A pan released over the sidebar ends there. Deselect first (a click on empty canvas), pan, release
    // outside, then click the box: it is selected (Delete below removes it), not the start of a new box.
    const area = (await page.locator('[data-testid="annotator-canvas"]').boundingBox())!;
    const empty = await at(page, 300, 20);
    await page.mouse.click(empty.x, empty.y);
    const xBefore = Number(await page.getAttribute('[data-testid="annotator-canvas"]', 'data-x'));
    await page.keyboard.down(' ');
    await page.mouse.move(area.x + 200, area.y + 200);
    await page.mouse.down();
    await page.mouse.move(area.x + 240, area.y + 210, { steps: 4 });
    await page.mouse.move(area.x + area.width + 120, area.y + 210); // one jump, onto the sidebar
    await page.mouse.up();
    await page.keyboard.up(' ');
    expect(Number(await page.getAttribute('[data-testid="annotator-canvas"]', 'data-x'))).not.toBe(xBefore);
    const [moved] = await annotations(id);
    const inside = await at(page, moved!.x + moved!.w / 2, moved!.y + moved!.h / 2);
    await page.mouse.click(inside.x, inside.y);
    await page.waitForSelector(`[data-testid="annotator-canvas"][data-selected="${moved!.id}"]`);
    expect(await annotations(id)).toHaveLength(1);

    await page.keyboard.press('Delete');
    await expect.poll(async () => (await annotations(id)).length).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await annotations(id)).length).toBe(1);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await annotations(id)).length).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await annotations(id)).length).toBe(1);

    await page.reload();
    await page.waitForSelector('[data-testid="annotator-canvas"] canvas');
    await expect.poll(() => page.locator('.boxes li').count()).toBe(1);
    await expect.poll(() => page.locator('.boxes li').first().textContent()).toContain('dog');
    await page.screenshot({ path: artifactPath('annotate-reloaded.png') });

    // Copy the image's boxes, paste them on the next image; then "boxes of the previous image" adds them again.
    await page.keyboard.press('Control+c');
    await page.keyboard.press('d');
    await page.waitForSelector(`[data-testid="annotator-canvas"][data-image="${ids[1]}"]`);
    await page.keyboard.press('Control+v');
    await expect.poll(async () => (await annotations(ids[1]!)).length).toBe(1);
    await page.keyboard.press('Control+Shift+v');
    await expect.poll(async () => (await annotations(ids[1]!)).length).toBe(2);
    const [p1, p2] = await annotations(ids[1]!);
    expect([p1!.classId, Math.round(p1!.w)]).toEqual([dog, Math.round((await annotations(id))[0]!.w)]);
    expect([p2!.x, p2!.y, p2!.w, p2!.h]).toEqual([p1!.x, p1!.y, p1!.w, p1!.h]);

    // Rename a class by double-clicking it; Escape on a second rename leaves the name alone.
    await page.dblclick('[data-testid="class-dog"]');
    await page.fill('[data-testid="class-rename"]', 'puppy');
    await page.keyboard.press('Enter');
    await expect
      .poll(
        async () =>
          session
            .requireProject()
            .classes.list()
            .find((c) => c.id === dog)?.name,
      )
      .toBe('puppy');
    await expect.poll(() => page.locator('.boxes li').first().textContent()).toContain('puppy');
    await page.dblclick('[data-testid="class-puppy"]');
    await page.fill('[data-testid="class-rename"]', 'nope');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid="class-rename"]').count()).toBe(0);
    expect(
      session
        .requireProject()
        .classes.list()
        .find((c) => c.id === dog)?.name,
    ).toBe('puppy');
    await call(session, 'classes.update', { id: dog, name: 'dog' }); // the next test expects the original names
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('walks pending pseudo-labels: Enter accepts, Delete rejects, the slider hides low scores', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openAnnotator(page, 'review');
    await expect.poll(() => page.textContent('[data-testid="pending-count"]')).toContain('2 pending');
    await expect.poll(() => page.locator('.boxes li').count()).toBe(2);
    await page.screenshot({ path: artifactPath('review-queue.png') });

    // The slider hides candidates below it (the 0.4 dog), without touching them.
    await page.locator('[data-testid="score-slider"]').fill('0.5');
    await expect.poll(() => page.locator('.boxes li').count()).toBe(1);
    await page.locator('[data-testid="score-slider"]').fill('0.25');
    await expect.poll(() => page.locator('.boxes li').count()).toBe(2);

    const p = await at(page, 50, 55); // inside the cat box
    await page.mouse.click(p.x, p.y);
    await page.keyboard.press('Enter');
    const byClass = async (c: number) => (await annotations(ids[2]!)).find((x) => x.classId === c)!;
    await expect.poll(async () => (await byClass(cat)).review).toBe('accepted');

    const q = await at(page, 235, 150); // inside the dog box
    await page.mouse.click(q.x, q.y);
    await page.keyboard.press('Delete');
    await expect.poll(async () => (await byClass(dog)).review).toBe('rejected');
    await expect.poll(() => page.textContent('[data-testid="pending-count"]')).toContain('0 pending');

    // A teacher run leaves boxes on the other two images: D goes on from this one (no longer in the queue) to
    // the first of them, walks on, and goes round; A walks back.
    const pending = { source: 'teacher:t1', review: 'pending' as const, w: 40, h: 40, y: 20 };
    session.requireProject().annotations.addMany([
      { ...pending, imageId: ids[0]!, classId: cat, x: 200, score: 0.8 },
      { ...pending, imageId: ids[1]!, classId: cat, x: 20, score: 0.6 },
      { ...pending, imageId: ids[1]!, classId: dog, x: 120, score: 0.7 },
    ]);
    const shown = () => page.getAttribute('[data-testid="annotator-canvas"]', 'data-image');
    for (const [key, id] of [
      ['d', ids[0]],
      ['d', ids[1]],
      ['d', ids[0]],
      ['a', ids[1]],
    ] as const) {
      await page.keyboard.press(key);
      await expect.poll(shown).toBe(String(id));
    }

    // "accept ≥" for cat at the slider's 0.5, on every image: it asks first, with the count.
    await page.locator('[data-testid="score-slider"]').fill('0.5');
    await page.click('[data-testid="accept-above-cat"]');
    // In-app, with the count, and the choice of marking images done (off unless asked).
    await expect
      .poll(() => page.textContent('[data-testid="dialog"]'))
      .toMatch(/^Accept 2 pending cat box\(es\) scoring ≥ 0\.50 on every image/);
    expect(await page.isChecked('[data-testid="dialog-option"]')).toBe(false);
    await page.click('[data-testid="dialog-ok"]');
    await expect.poll(() => page.textContent('[data-testid="annotator-status"]')).toMatch(/Accepted 2 pending cat/);
    const reviews = async (id: number) =>
      (await annotations(id))
        .filter((x) => x.source === 'teacher:t1')
        .map((x) => `${x.classId === cat ? 'cat' : 'dog'} ${x.review}`);
    expect(await reviews(ids[0]!)).toEqual(['cat accepted']);
    expect((await reviews(ids[1]!)).sort()).toEqual(['cat accepted', 'dog pending']);

    // Accepting boxes completed no image: the gallery says "partly reviewed", not done.
    const status = async (id: number) => (await call(session, 'images.get', { id })).image.status;
    expect(await status(ids[2]!)).toBe('unlabeled');
    await page.goto(`${server.openUrl}#/gallery`);
    await page.selectOption('[data-testid="filter-status"]', 'partial');
    await expect
      .poll(() => page.locator('[data-testid="image-progress"]').allTextContents())
      .toEqual(['partly reviewed', 'partly reviewed']);
    // Done in the review queue: the image is marked done, its pending dog rejected, and the queue moves on.
    await openAnnotator(page, `review/${ids[1]}`);
    await expect.poll(() => page.textContent('[data-testid="image-done"]')).toBe('not done');
    await page.click('[data-testid="mark-done"]');
    await expect
      .poll(() => page.textContent('[data-testid="annotator-status"]'))
      .toMatch(/^Done: 1 pending box\(es\) rejected/);
    expect(await status(ids[1]!)).toBe('reviewed');
    expect((await reviews(ids[1]!)).sort()).toEqual(['cat accepted', 'dog rejected']);
    // Reopen from the annotator undoes it.
    await openAnnotator(page, `annotate/${ids[1]}`);
    await expect.poll(() => page.textContent('[data-testid="image-done"]')).toBe('done');
    await page.click('text=Reopen');
    await expect.poll(() => status(ids[1]!)).toBe('unlabeled');
    // Ctrl+Enter marks done from the keyboard.
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => status(ids[1]!)).toBe('reviewed');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('reviews at a threshold: progress, a walk of what the slider shows, buttons, rejected boxes restored', async () => {
    // Fresh pending boxes: two on the first image (0.8 and 0.3), one low one (0.3) on the second.
    const pending = (imageId: number, x: number, score: number) => ({
      imageId,
      classId: cat,
      x,
      y: 20,
      w: 30,
      h: 30,
      source: 'teacher:t3',
      score,
      review: 'pending' as const,
    });
    session
      .requireProject()
      .annotations.addMany([pending(ids[0]!, 10, 0.8), pending(ids[0]!, 60, 0.3), pending(ids[1]!, 10, 0.3)]);
    const progress = async (minScore: number) => {
      const p = await call(session, 'review.progress', { minScore });
      return `${p.images} image${p.images === 1 ? '' : 's'}, ${p.boxes} box${p.boxes === 1 ? '' : 'es'} left at ≥ ${minScore.toFixed(2)}`;
    };
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openAnnotator(page, `review/${ids[0]}`);
    await expect.poll(() => page.textContent('[data-testid="review-progress"]')).toBe(await progress(0.25));
    await page.locator('[data-testid="score-slider"]').fill('0.5');
    await expect.poll(() => page.textContent('[data-testid="review-progress"]')).toBe(await progress(0.5));
    // At 0.5 the second image (only a 0.3 box) is not in the walk: D finds nothing else, or goes past it.
    const shown = () => page.getAttribute('[data-testid="annotator-canvas"]', 'data-image');
    const walk = await call(session, 'images.neighbors', {
      id: ids[0]!,
      filter: { status: 'pending', pendingMinScore: 0.5 },
      wrap: true,
    });
    expect(walk.next).not.toBe(ids[1]);
    // D walks the same list: to the next image above 0.5, or nowhere when there is none; never to the second.
    await page.keyboard.press('d');
    if (walk.next === null || walk.next === ids[0]) {
      await expect
        .poll(() => page.textContent('[data-testid="annotator-status"]'))
        .toMatch(/No other image has pending boxes scoring ≥ 0\.50/);
      expect(await shown()).toBe(String(ids[0]));
    } else {
      await expect.poll(shown).toBe(String(walk.next));
      await page.keyboard.press('a');
      await expect.poll(shown).toBe(String(ids[0]));
    }
    // Reject what is shown (the 0.8 box), then see it among the rejected and restore it.
    await page.click('[data-testid="review-reject"]');
    await expect
      .poll(async () => (await annotations(ids[0]!)).find((a) => a.source === 'teacher:t3' && a.x === 10)?.review)
      .toBe('rejected');
    await page.check('[data-testid="show-rejected"]');
    await page
      .locator('[data-testid="rejected-boxes"] li', { hasText: '0.80' })
      .locator('[data-testid="restore-box"]')
      .click();
    await expect
      .poll(async () => (await annotations(ids[0]!)).find((a) => a.source === 'teacher:t3' && a.x === 10)?.review)
      .toBe('pending');
    await page.click('[data-testid="review-accept"]');
    await expect
      .poll(async () => (await annotations(ids[0]!)).find((a) => a.source === 'teacher:t3' && a.x === 10)?.review)
      .toBe('accepted');
    // Back at 0.25, D moves on, and "back to the last image" returns to the one just reviewed.
    await page.locator('[data-testid="score-slider"]').fill('0.25');
    await page.keyboard.press('d');
    await expect.poll(shown).not.toBe(String(ids[0]));
    await page.click('[data-testid="back-to-last"]');
    await expect.poll(shown).toBe(String(ids[0]));
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('runs a registered teacher on the open image: its boxes arrive pending, to accept or reject in place', async () => {
    // An untrained detector for the project's classes, its class logits spread so that it proposes boxes.
    seedInit(8);
    const d = buildDetector({ scale: 'n', backbone: 'shufflenetv2_x0_5', nc: 2 });
    const r = new Rng('e2e-assist');
    for (const [name, p] of d.namedTensors())
      if (/cv3\.\d\.2\.bias$/.test(name)) p.data = p.data.map(() => r.range(-2, 1));
    const file = path.join(path.dirname(session.requireProject().root), 'assist-teacher.onnx');
    fs.writeFileSync(file, exportDetector(d, { imgsz: 96, style: 'raw', names: ['cat', 'dog'] }).bytes);
    await call(session, 'teachers.add', { path: file, name: 'helper' });
    const image = ids[1]!;

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openAnnotator(page, `annotate/${image}`);
    await expect.poll(() => page.inputValue('[data-testid="assist-teacher"]')).not.toBe('');
    // A threshold out of range is said beside the field and nothing runs.
    await page.fill('[data-testid="assist-conf"]', '1.5');
    await expect.poll(() => page.textContent('[data-testid="assist-conf-error"]')).toBe('A score from 0 to 1');
    expect(await page.isDisabled('[data-testid="assist-run"]')).toBe(true);
    await page.fill('[data-testid="assist-conf"]', '0.3');
    await page.click('[data-testid="assist-run"]');
    await expect
      .poll(() => page.textContent('[data-testid="annotator-status"]'), { timeout: 30_000 })
      .toMatch(/^helper: \d+ pending box(es)? at ≥ 0\.3/);
    const made = (await annotations(image)).filter((a) => a.review === 'pending' && a.source === 'teacher:helper');
    expect(made.length).toBeGreaterThan(0);
    expect(made.every((a) => a.score! >= 0.3)).toBe(true);
    await page.screenshot({ path: artifactPath('annotate-assist.png') });
    // Other teachers' pending boxes on the image stay beside the new ones; the sidebar counts them all.
    const pendingNow = (await annotations(image)).filter((a) => a.review === 'pending').length;
    await expect
      .poll(() => page.textContent('[data-testid="pending-count"]'))
      .toBe(`${pendingNow} pending on this image`);
    // In place: a click on a new box selects a pending box there (the topmost, where boxes overlap); Enter
    // accepts it. Then a click on another, Delete rejects it.
    const decide = async (key: string, review: string) => {
      const box = (await annotations(image)).find((a) => a.review === 'pending' && a.source === 'teacher:helper');
      if (!box) return false;
      const p = await at(page, box.x + box.w / 2, box.y + box.h / 2);
      await page.mouse.click(p.x, p.y);
      await expect.poll(() => page.getAttribute('[data-testid="annotator-canvas"]', 'data-selected')).toMatch(/^\d+$/);
      const picked = Number(await page.getAttribute('[data-testid="annotator-canvas"]', 'data-selected'));
      expect((await annotations(image)).find((a) => a.id === picked)?.review).toBe('pending');
      await page.keyboard.press(key);
      await expect.poll(async () => (await annotations(image)).find((a) => a.id === picked)?.review).toBe(review);
      return true;
    };
    expect(await decide('Enter', 'accepted')).toBe(true);
    await decide('Delete', 'rejected');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('merges a class into another and deletes one with its boxes, after a confirmation with counts, both undone', async () => {
    const bird = (await call(session, 'classes.create', { name: 'bird' })).id;
    const image = ids[0]!;
    const birdBoxes = session.requireProject().annotations.addMany([
      { imageId: image, classId: bird, x: 150, y: 20, w: 30, h: 30 },
      { imageId: image, classId: bird, x: 200, y: 150, w: 40, h: 30 },
    ]);
    const classOf = async (id: number) => (await annotations(image)).find((a) => a.id === id)?.classId;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openAnnotator(page, `annotate/${image}`);

    await page.selectOption('[data-testid="class-actions-bird"]', `merge:${dog}`);
    await expect
      .poll(() => page.textContent('[data-testid="dialog"]'))
      .toMatch(/Merge bird into dog\?.*2 boxes on 1 image/);
    await page.click('[data-testid="dialog-ok"]');
    await expect.poll(() => classOf(birdBoxes[0]!)).toBe(dog);
    await expect.poll(() => page.locator('[data-testid="class-bird"]').count()).toBe(0);
    expect(await page.textContent('[data-testid="class-undo"]')).toMatch(/Merged bird into dog \(2 boxes\)/);
    await page.screenshot({ path: artifactPath('annotate-class-merge.png') });
    await page.click('[data-testid="class-undo-action"]');
    await expect.poll(() => classOf(birdBoxes[1]!)).toBe(bird);
    await expect.poll(() => page.locator('[data-testid="class-bird"]').count()).toBe(1);

    // Cancel changes nothing; Delete takes the boxes with the class; Undo brings both back.
    await page.selectOption('[data-testid="class-actions-bird"]', 'delete');
    await expect.poll(() => page.textContent('[data-testid="dialog"]')).toMatch(/Delete the class bird\?.*2 accepted/);
    await page.click('[data-testid="dialog-cancel"]');
    expect(await classOf(birdBoxes[0]!)).toBe(bird);
    await page.selectOption('[data-testid="class-actions-bird"]', 'delete');
    await page.click('[data-testid="dialog-ok"]');
    await expect.poll(() => classOf(birdBoxes[0]!)).toBeUndefined();
    expect((await call(session, 'classes.list', {})).map((c) => c.name)).not.toContain('bird');
    await page.click('[data-testid="class-undo-action"]');
    await expect.poll(async () => [await classOf(birdBoxes[0]!), await classOf(birdBoxes[1]!)]).toEqual([bird, bird]);
    await expect
      .poll(() => page.textContent('[data-testid="annotator-status"]'))
      .toMatch(/Undone: bird is back with 2 boxes/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
  it('runs a teacher on a gallery selection and marks it done; the jobs tray folds to one line', async () => {
    const helper = (await call(session, 'teachers.list', {})).find((t) => t.name === 'helper')!;
    const boxesOf = async (id: number, source: string) =>
      (await annotations(id)).filter((a) => a.source === source && a.review === 'pending').length;
    const before2 = await boxesOf(ids[2]!, 'teacher:helper');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/gallery`);
    const cell = (i: number) => page.locator(`[data-testid="gallery-cell"][data-index="${i}"]`);
    await cell(0).click();
    await cell(1).click({ modifiers: ['Control'] });
    await expect.poll(() => page.textContent('[data-testid="picked-count"]')).toBe('2 selected');
    await page.selectOption('[data-testid="bulk-teacher"]', `teacher:${helper.id}`);
    await expect.poll(() => page.textContent('[data-testid="bulk-notice"]')).toMatch(/helper is labeling 2 images/);
    // The tray shows the job; folded, it is one line and lists nothing; unfolded, the job is back.
    await page.waitForSelector('[data-testid="jobs-tray"] .job');
    await page.click('[data-testid="jobs-fold"]');
    expect(await page.locator('[data-testid="jobs-tray"] .job').count()).toBe(0);
    expect((await page.locator('[data-testid="jobs-tray"]').boundingBox())!.height).toBeLessThan(48);
    expect(await page.textContent('[data-testid="jobs-fold"]')).toMatch(/^▸ Jobs: /);
    await page.click('[data-testid="jobs-fold"]');
    expect(await page.locator('[data-testid="jobs-tray"] .job').count()).toBeGreaterThan(0);
    await expect
      .poll(
        async () => (await call(session, 'jobs.list', {})).filter((j) => j.kind === 'pseudo-label').at(-1)?.status,
        {
          timeout: 30_000,
        },
      )
      .toBe('done');
    const made = [await boxesOf(ids[0]!, 'teacher:helper'), await boxesOf(ids[1]!, 'teacher:helper')];
    expect(made[0]! + made[1]!).toBeGreaterThan(0);
    // Only the selection was labeled.
    expect(await boxesOf(ids[2]!, 'teacher:helper')).toBe(before2);

    // Mark done: the selection's pending boxes are rejected and the images count as reviewed.
    const pending = async (id: number) => (await annotations(id)).filter((a) => a.review === 'pending').length;
    const toReject = (await pending(ids[0]!)) + (await pending(ids[1]!));
    await page.click('[data-testid="bulk-done"]');
    await expect
      .poll(() => page.textContent('[data-testid="bulk-notice"]'))
      .toMatch(new RegExp(`Marked 2 images done \\(${toReject} pending box(es)? rejected\\)`));
    expect([await pending(ids[0]!), await pending(ids[1]!)]).toEqual([0, 0]);
    for (const id of ids.slice(0, 2))
      expect((await call(session, 'images.get', { id })).image.status).not.toBe('unlabeled');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
