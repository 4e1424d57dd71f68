import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { writeJpegs } from '../helpers.js';
import { artifactPath, startE2E, stopE2E, type E2E } from './browser.js';

let e: E2E | undefined;
let session: E2E['session'];
let server: E2E['server'];
let browser: Browser;
let dir: string;

beforeAll(async () => {
  e = await startE2E(async (s, d) => {
    session = s;
    dir = d;
    await call(session, 'project.create', { path: `${d}/proj`, name: 'dataset e2e' });
    // A COCO dataset of 3 images, one of its boxes naming an image that is not there.
    const files = await writeJpegs(`${d}/coco/images`, 3, { width: 80, height: 60 });
    const coco = {
      images: files.map((f, i) => ({ id: i + 1, file_name: path.basename(f), width: 80, height: 60 })),
      categories: [
        { id: 1, name: 'cat' },
        { id: 2, name: 'dog' },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [5, 5, 20, 20] },
        { id: 2, image_id: 2, category_id: 2, bbox: [30, 10, 25, 30] },
        { id: 3, image_id: 9, category_id: 1, bbox: [1, 1, 5, 5] },
      ],
    };
    fs.writeFileSync(`${d}/coco/instances_train.json`, JSON.stringify(coco));
  });
  ({ server, browser } = e);
});

afterAll(() => stopE2E(e));

describe('the Dataset view, end to end', () => {
  it('imports all or nothing with the problems by file, then exports labels into a folder it asks to create', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/dataset`);
    await page.fill('[data-testid="import-path"]', `${dir}/coco/missing.json`);
    await expect.poll(() => page.textContent('[data-testid="import-path-check"]')).toBe('No such file or folder');
    expect(await page.isDisabled('[data-testid="import-run"]')).toBe(true);
    await page.fill('[data-testid="import-path"]', `${dir}/coco/instances_train.json`);
    await page.fill('[data-testid="import-images-root"]', `${dir}/coco/images`);
    await expect.poll(() => page.textContent('[data-testid="import-path-check"]')).toBe('file found');
    await page.click('[data-testid="import-run"]');
    await expect
      .poll(() => page.textContent('[data-testid="import-error"]'))
      .toMatch(/1 problem; nothing was imported/);
    await expect
      .poll(() => page.locator('[data-testid="import-problems"] tbody tr').allTextContents())
      .toEqual([expect.stringMatching(/instances_train\.json.*unknown image_id 9.*box/)]);
    expect((await call(session, 'images.count', {})).total).toBe(0);
    await page.screenshot({ path: artifactPath('dataset-import-problems.png') });

    await page.check('[data-testid="import-skip-bad"]');
    await page.click('[data-testid="import-run"]');
    await expect
      .poll(() => page.textContent('[data-testid="import-result"]'))
      .toMatch(/Imported 3 images and 2 boxes; new classes: cat, dog; skipped 1 bad items/);
    expect((await call(session, 'images.count', {})).total).toBe(3);

    // Export: YOLO into a folder that does not exist yet; the view asks before creating it.
    // Imported images are done (the one without boxes a negative); reopen that one so it is left out.
    await call(session, 'images.markDone', { ids: (await call(session, 'images.ids', {})).slice(2), done: false });
    await page.selectOption('[data-testid="export-format"]', 'yolo');
    const out = `${dir}/exports/yolo`;
    await page.fill('[data-testid="export-dir"]', out);
    await expect.poll(() => page.textContent('[data-testid="export-dir-check"]')).toMatch(/both will be created/);
    await page.click('[data-testid="export-run"]');
    await expect.poll(() => page.textContent('[data-testid="dialog"]')).toMatch(/Create .*exports\/yolo\?/);
    await page.screenshot({ path: artifactPath('dataset-create-folder.png') });
    await page.click('[data-testid="dialog-cancel"]');
    expect(fs.existsSync(out)).toBe(false);
    await page.click('[data-testid="export-run"]');
    await page.click('[data-testid="dialog-ok"]');
    await expect
      .poll(() => page.textContent('[data-testid="export-result"]'))
      .toMatch(/Wrote \d+ files to .*exports\/yolo: 2 labeled images, 2 boxes; 1 not labeled/);
    expect(fs.readFileSync(`${out}/data.yaml`, 'utf8')).toMatch(/cat/);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows the dataset health: balance, sizes, and a duplicate that leaks across splits', async () => {
    // The first image again under another name, in val: the same content in two splits.
    fs.mkdirSync(`${dir}/extra`, { recursive: true });
    fs.copyFileSync(`${dir}/coco/images/img_000.jpg`, `${dir}/extra/copy.jpg`);
    const { jobId } = await call(session, 'images.add', { paths: [`${dir}/extra`], split: 'val' });
    await session.jobs.wait(jobId);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Thumbnails carry their boxes in class colours.
    await page.goto(`${server.openUrl}#/gallery`);
    await expect.poll(() => page.locator('[data-testid="thumb-boxes"] rect').count()).toBe(2);
    await page.goto(`${server.openUrl}#/health`);
    await expect
      .poll(() => page.locator('[data-testid="health-summary"] tbody tr').allTextContents())
      .toEqual([
        expect.stringMatching(/^train3021\.0$/),
        expect.stringMatching(/^val10/),
        expect.stringMatching(/^test00/),
      ]);
    await expect.poll(() => page.textContent('[data-testid="health-classes"]')).toMatch(/cat.*1.*dog.*1/s);
    expect(await page.textContent('[data-testid="health-sizes"]')).toMatch(/16–32/);
    expect(await page.textContent('[data-testid="health-duplicates-title"]')).toMatch(/1 group \(1 across splits/);
    expect(await page.textContent('[data-testid="health-duplicates"]')).toMatch(
      /img_000\.jpg \(train\).*copy\.jpg \(val\)/,
    );
    await page.click('[data-testid="health-near-run"]');
    await expect
      .poll(() => page.textContent('[data-testid="health-near-summary"]'), { timeout: 20_000 })
      .toMatch(/^1 group among 4 images; 1 across splits\.$/);
    await page.screenshot({ path: artifactPath('health.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
  it('adds several paths at once, and uploads files from the browser into uploads/ (a corrupt one skipped)', async () => {
    const a = await writeJpegs(`${dir}/more/a`, 2, { width: 64, height: 48 });
    const b = await writeJpegs(`${dir}/more/b`, 2, { width: 72, height: 48 });
    const before = (await call(session, 'images.count', {})).total;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/dataset`);
    // A folder, then one file of another folder: listed one after another, added together.
    await page.fill('[data-testid="add-images-path"]', `${dir}/more/a`);
    await expect.poll(() => page.textContent('[data-testid="add-images-path-check"]')).toBe('folder found');
    await page.click('[data-testid="add-images-more"]');
    expect(await page.inputValue('[data-testid="add-images-path"]')).toBe('');
    await page.fill('[data-testid="add-images-path"]', b[0]!);
    await expect.poll(() => page.textContent('[data-testid="add-images-path-check"]')).toBe('file found');
    expect(await page.textContent('[data-testid="add-images-list"]')).toContain(`${dir}/more/a`);
    expect(await page.textContent('[data-testid="add-images-run"]')).toBe('Add 2 paths');
    await page.selectOption('[data-testid="add-images-split"]', 'val');
    await page.click('[data-testid="add-images-run"]');
    await expect.poll(() => page.textContent('[data-testid="add-images-result"]')).toMatch(/^Added 3 images to val\./);
    expect((await call(session, 'images.count', {})).total).toBe(before + 3);
    expect((await call(session, 'images.count', { filter: { split: 'val' } })).total).toBeGreaterThanOrEqual(3);
    expect(a.length).toBe(2);

    // Upload: the bytes go up, are saved under the project's uploads/ folder and added; a corrupt JPEG is skipped
    // and named; uploading the same file again adds nothing and writes no second copy.
    fs.writeFileSync(`${dir}/more/broken.jpg`, Buffer.from('not a jpeg at all'));
    await page.setInputFiles('[data-testid="add-images-upload"]', [b[1]!, `${dir}/more/broken.jpg`]);
    await expect
      .poll(() => page.textContent('[data-testid="add-images-result"]'))
      .toMatch(/^Added 1 image to val; skipped 1: broken\.jpg: /);
    const root = session.requireProject().root;
    // The refused file is not kept in the project's folder.
    expect(fs.readdirSync(`${root}/uploads`)).toEqual([path.basename(b[1]!)]);
    expect(fs.readFileSync(`${root}/uploads/${path.basename(b[1]!)}`).equals(fs.readFileSync(b[1]!))).toBe(true);
    expect((await call(session, 'images.count', {})).total).toBe(before + 4);
    await page.setInputFiles('[data-testid="add-images-upload"]', [b[1]!]);
    await expect.poll(() => page.textContent('[data-testid="add-images-result"]')).toMatch(/^Added 0 images/);
    expect(fs.readdirSync(`${root}/uploads`)).toHaveLength(1);
    expect((await call(session, 'images.count', {})).total).toBe(before + 4);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
