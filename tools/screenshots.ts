/**
 * Takes the README's screenshots: serves a project in browser mode and captures each view in Debian's
 * Chromium. Point it at a project with a training run and pseudo-labels (e.g. the demo's sample project).
 *
 *   node --import tsx tools/screenshots.ts <project> [outDir=docs/screenshots] [views=all, e.g. runs,export]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { startServer } from '../src-main/server.js';
import { launchChromium } from '../tests/e2e/browser.js';

const [project, outDir = 'docs/screenshots', only] = process.argv.slice(2);
if (!project) throw new Error('usage: tools/screenshots.ts <project> [outDir] [views]');
const wanted = (view: string) => !only || only.split(',').includes(view);
fs.mkdirSync(outDir, { recursive: true });
const session = new Session();
await call(session, 'project.open', { path: project });
const server = await startServer({ session });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const shot = async (hash: string, file: string, ready: string) => {
    if (!wanted(file.replace('.png', ''))) return;
    await page.goto(`${server.openUrl}#/${hash}`);
    await page.waitForSelector(ready);
    await page.waitForTimeout(1500); // images, charts
    await page.screenshot({ path: path.join(outDir, file) });
    console.log(`${file}: #/${hash}`);
  };
  const val = (await call(session, 'images.list', { filter: { split: 'val' }, limit: 4 })).items.at(-1);
  await shot(`annotate/${val?.id ?? ''}`, 'annotate.png', '[data-testid="annotator-canvas"] canvas');
  await shot('review', 'review.png', '[data-testid="annotator-canvas"] canvas');
  await shot('teachers', 'teachers.png', '[data-testid="teachers-view"]');
  await shot('train', 'train.png', '[data-testid="train-view"] .u-wrap');
  await shot('gallery', 'gallery.png', '[data-testid="gallery-total"]');
  if (wanted('runs')) {
    // The leaderboard with the two newest runs ticked for the side-by-side comparison.
    await page.goto(`${server.openUrl}#/runs`);
    await page.waitForSelector('[data-testid="runs-table"] tbody tr');
    const boxes = page.locator('[data-testid="runs-table"] tbody input[type="checkbox"]');
    for (let i = 0; i < Math.min(2, await boxes.count()); i++)
      if (!(await boxes.nth(i).isChecked())) await boxes.nth(i).check();
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(outDir, 'runs.png') });
    console.log('runs.png: #/runs');
  }
  if (wanted('runs-by-config')) {
    // The same runs grouped by their config (a sweep's seeds in one row).
    await page.goto(`${server.openUrl}#/runs`);
    await page.waitForSelector('[data-testid="runs-table"] tbody tr');
    await page.check('[data-testid="leaderboard-group"]');
    await page.waitForSelector('[data-testid="config-groups"] tbody tr');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(outDir, 'runs-by-config.png') });
    console.log('runs-by-config.png: #/runs (group by config)');
  }
  if (wanted('export')) {
    await page.goto(`${server.openUrl}#/export`);
    await page.waitForSelector('[data-testid="export-go"]');
    await page.selectOption('[data-testid="export-style"]', 'nms');
    await page.fill('[data-testid="export-out"]', path.join(os.tmpdir(), 'starling-screenshot-export.onnx'));
    await page.click('[data-testid="export-go"]');
    await page.waitForSelector('[data-testid="export-result"]', { timeout: 60_000 });
    await page.screenshot({ path: path.join(outDir, 'export.png') });
    console.log('export.png: #/export');
  }
  if (wanted('detections')) {
    await page.goto(`${server.openUrl}#/detections`);
    await page.waitForSelector('[data-testid="det-images"] li');
    await page.click('[data-testid="det-filter-fp"]');
    await page.locator('[data-testid="det-images"] li button').first().click();
    await page.waitForSelector('[data-testid="det-viewer"] canvas');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(outDir, 'detections.png'), fullPage: false });
    console.log('detections.png: #/detections');
  }
} finally {
  await browser.close();
  await server.close();
  await session.dispose();
}
