import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { writeJpegs } from '../helpers.js';
import { artifactPath, startE2E, stopE2E, type E2E } from './browser.js';

let e: E2E | undefined;
let session: E2E['session'];
let server: E2E['server'];
let browser: Browser;
let tmpDir: string;
const N_IMAGES = 30;

beforeAll(async () => {
  e = await startE2E(async (s, dir) => {
    session = s;
    tmpDir = dir;
    await call(session, 'project.create', { path: `${dir}/proj`, name: 'e2e project' });
    await writeJpegs(`${dir}/proj/images`, N_IMAGES, { width: 96, height: 72 });
    const { jobId } = await call(session, 'images.add', { paths: [`${dir}/proj/images`] });
    await session.jobs.wait(jobId);
    // A few val images so the split filter has something to show.
    const { items } = await call(session, 'images.list', { limit: 5 });
    await call(session, 'images.setSplit', { ids: items.map((i) => i.id), split: 'val' });
  });
  ({ server, browser } = e);
});

afterAll(() => stopE2E(e));

describe('browser mode, end to end', () => {
  it('opens the gallery of the served project and lists its images with thumbnails', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.openUrl);
    await page.waitForSelector('[data-testid="gallery-total"]');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES} images`);
    // Every visible cell shows a decoded thumbnail.
    await page.waitForFunction((n) => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid="gallery-cell"] img')];
      return imgs.length >= Math.min(n, 12) && imgs.every((i) => i.complete && i.naturalWidth > 0);
    }, N_IMAGES);
    // Virtualized: far fewer cells than a 100k project would need, but all images reachable.
    const cells = await page.locator('[data-testid="gallery-cell"]').count();
    expect(cells).toBeGreaterThan(0);
    expect(cells).toBeLessThanOrEqual(N_IMAGES);

    await page.selectOption('[data-testid="filter-split"]', 'val');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe('5 images');
    // The menus count what each choice would show with the other filters as they are.
    const option = (menu: string, value: string) =>
      page.textContent(`[data-testid="filter-${menu}"] option[value="${value}"]`);
    await expect.poll(() => option('status', 'unlabeled')).toBe(`unlabeled (5)`);
    expect(await option('split', 'train')).toBe(`train (${N_IMAGES - 5})`);
    await page.screenshot({ path: artifactPath('gallery.png') });

    // Keyboard: arrows move the selection, Enter opens it. The annotator's A/D then walk the filtered list.
    const val = (await call(session, 'images.list', { filter: { split: 'val' } })).items.map((i) => String(i.id));
    await page.waitForSelector('[data-testid="gallery-cell"] img');
    await page.focus('.grid-scroller');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    const shown = () => page.getAttribute('[data-testid="annotator-canvas"]', 'data-image');
    await expect.poll(shown).toBe(val[2]);
    expect(await page.textContent('[data-testid="annotator-walk"]')).toMatch(/split val/);
    for (const id of [val[3], val[4]]) {
      await page.keyboard.press('d');
      await expect.poll(shown).toBe(id);
    }
    await page.keyboard.press('d'); // the next image is a train one: outside the walk
    await expect.poll(() => page.textContent('[data-testid="annotator-status"]')).toMatch(/No more images/);
    expect(await shown()).toBe(val[4]);

    // Back in the gallery: the filter and the selection are as they were left.
    await page.evaluate("location.hash = '#/gallery'");
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe('5 images');
    expect(await page.inputValue('[data-testid="filter-split"]')).toBe('val');
    await expect
      .poll(() => page.getAttribute('[data-testid="gallery-cell"][aria-selected="true"]', 'data-index'))
      .toBe('2');
    // Alt+N opens the annotator on the image last annotated; Alt+G goes back to the gallery.
    await page.keyboard.press('Alt+n');
    await expect.poll(shown).toBe(val[4]);
    await page.keyboard.press('Alt+g');
    await expect.poll(() => page.inputValue('[data-testid="filter-split"]')).toBe('val');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('finds images by name and acts on a selection: split, negative, delete with undo', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/gallery`);
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES} images`);
    await page.fill('[data-testid="filter-search"]', 'IMG_01');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe('10 images');
    await page.selectOption('[data-testid="gallery-sort"]', '-name');
    await expect
      .poll(() => page.locator('[data-testid="gallery-cell"][data-index="0"] .name').textContent())
      .toBe('img_019.jpg');
    await page.selectOption('[data-testid="gallery-sort"]', 'added');
    await page.fill('[data-testid="filter-search"]', '');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES} images`);
    // The toolbar and the selection bar fit at 1280 px: nothing runs past the window's edge.
    for (const bar of ['header.toolbar', '[data-testid="bulk-bar"]']) {
      const box = (await page.locator(bar).boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(1280);
    }

    const cell = (i: number) => page.locator(`[data-testid="gallery-cell"][data-index="${i}"]`);
    await cell(0).click();
    await cell(3).click({ modifiers: ['Shift'] });
    await expect.poll(() => page.textContent('[data-testid="picked-count"]')).toBe('4 selected');
    await cell(1).click({ modifiers: ['Control'] });
    await expect.poll(() => page.textContent('[data-testid="picked-count"]')).toBe('3 selected');
    const all = (await call(session, 'images.list', { limit: 10 })).items;
    const picked = [all[0]!.id, all[2]!.id, all[3]!.id];
    await page.selectOption('[data-testid="bulk-split"]', 'split:test');
    await expect
      .poll(async () => (await call(session, 'images.list', { filter: { split: 'test' } })).items.map((i) => i.id))
      .toEqual(picked);
    await page.click('[data-testid="bulk-negative"]');
    await expect
      .poll(() => page.textContent('[data-testid="bulk-notice"]'))
      .toMatch(/Marked 3 images done as negatives/);
    expect((await call(session, 'images.get', { id: picked[0]! })).image.status).toBe('labeled');
    await page.screenshot({ path: artifactPath('gallery-selection.png') });

    await page.click('[data-testid="bulk-delete"]');
    await expect.poll(() => page.textContent('[data-testid="dialog"]')).toMatch(/Delete 3 images from the project\?/);
    await page.click('[data-testid="dialog-ok"]');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES - 3} images`);
    await page.click('[data-testid="bulk-notice-action"]');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES} images`);
    expect((await call(session, 'images.get', { id: picked[2]! })).image.split).toBe('test');
    // The cursor and the selection look different: the selection carries a tick.
    expect(await page.locator('[data-testid="gallery-cell"] .check').count()).toBe(0);
    // Ctrl+Z undoes a delete after its toast has gone too; Ctrl+A selects all and Escape clears.
    await cell(5).click();
    expect(await cell(5).locator('.check').count()).toBe(1);
    await page.click('[data-testid="bulk-delete"]');
    await page.click('[data-testid="dialog-ok"]');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES - 1} images`);
    await page.locator('[data-testid="bulk-notice"] button[aria-label="Dismiss"]').click();
    await page.focus('.grid-scroller');
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N_IMAGES} images`);
    await expect.poll(() => page.textContent('[data-testid="bulk-notice"]')).toMatch(/Restored 1 image/);
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.textContent('[data-testid="picked-count"]')).toBe(`${N_IMAGES} selected`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.textContent('[data-testid="picked-count"]')).toMatch(/^Click, Ctrl\+click/);
    // Select all picks every image the filter shows, loaded or not.
    await page.click('[data-testid="pick-all"]');
    await expect.poll(() => page.textContent('[data-testid="picked-count"]')).toBe(`${N_IMAGES} selected`);
    await call(session, 'images.setSplit', { ids: picked, split: 'val' }); // as the first test left them
    // ? lists the view's shortcuts and the view keys; Escape closes it.
    await page.focus('.grid-scroller');
    await page.keyboard.press('?');
    await expect
      .poll(() => page.textContent('[data-testid="shortcut-help"]'))
      .toMatch(/Gallery.*Shift\+click.*Alt\+O.*Dataset/s);
    await page.screenshot({ path: artifactPath('shortcut-help.png') });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid="shortcut-help"]').count()).toBe(0);
    // The light theme, kept across a reload.
    await page.click('[data-testid="theme-toggle"]');
    expect(await page.getAttribute('html', 'data-theme')).toBe('light');
    await page.screenshot({ path: artifactPath('gallery-light.png') });
    await page.reload();
    await expect.poll(() => page.getAttribute('html', 'data-theme')).toBe('light');
    await page.click('[data-testid="theme-toggle"]');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says plainly when a view does not exist', async () => {
    const page = await browser.newPage();
    await page.goto(server.openUrl);
    await page.waitForSelector('[data-testid="gallery-total"]');
    // Every view exists now; the placeholder remains for unknown routes.
    await page.goto(`${server.openUrl}#/nowhere`);
    await expect
      .poll(() => page.locator('[data-testid="placeholder-nowhere"]').textContent())
      .toMatch(/There is no view called “nowhere”/);
    await page.close();
  });

  it('refuses a page load without the token', async () => {
    const page = await browser.newPage();
    const res = await page.goto(server.url + '/');
    expect(res?.status()).toBe(401);
    await page.close();
  });

  // Last: it opens another project in the shared session.
  it('jumps to the end of a 20,000-image project: records and thumbnails arrive, a corrupt file says so', async () => {
    const N = 20_000;
    const dir = path.join(tmpDir, 'big');
    const sources = fs.readdirSync(`${tmpDir}/proj/images`).map((f) => path.join(tmpDir, 'proj/images', f));
    fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
    const rows = Array.from({ length: N }, (_, i) => {
      const rel = `images/img_${String(i).padStart(5, '0')}.jpg`;
      if (i === N - 1) fs.writeFileSync(path.join(dir, rel), 'not a jpeg');
      else fs.linkSync(sources[i % sources.length]!, path.join(dir, rel));
      return { path: rel, hash: `h${String(i).padStart(39, '0')}`, width: 96, height: 72 };
    });
    const store = ProjectStore.create(dir, 'big');
    store.images.addMany(rows);
    store.close();
    await call(session, 'project.open', { path: dir });

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const thumbs: string[] = [];
    page.on('request', (r) => r.url().includes('/media/thumb/') && thumbs.push(r.url()));
    await page.goto(server.openUrl);
    await expect.poll(() => page.textContent('[data-testid="gallery-total"]')).toBe(`${N} images`);
    await page.focus('.grid-scroller');
    for (let k = 0; k < 30; k++) await page.keyboard.press('PageDown');
    await page.keyboard.press('End');
    const last = page.locator(`[data-testid="gallery-cell"][data-index="${N - 1}"]`);
    await expect.poll(() => last.textContent(), { timeout: 15_000 }).toMatch(/unreadable image/);
    await expect.poll(() => last.getAttribute('aria-selected')).toBe('true');
    // The row before the last shows decoded thumbnails.
    const neighbour = page.locator(`[data-testid="gallery-cell"][data-index="${N - 2}"] img`);
    await expect
      .poll(() => neighbour.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0), { timeout: 15_000 })
      .toBe(true);
    // Cells that only flashed past were not all fetched: thumbnails are loaded for what stays on screen.
    expect(thumbs.length).toBeLessThan(1000);
    await page.close();
  });
});
