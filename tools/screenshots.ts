/**
 * Takes the README's screenshots: serves a project in browser mode and captures each view in Debian's
 * Chromium. Point it at a project with a training run and pseudo-labels (e.g. the demo's sample project).
 *
 *   node --import tsx tools/screenshots.ts <project> [outDir=docs/screenshots]
 */
import fs from 'node:fs';
import path from 'node:path';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { startServer } from '../src-main/server.js';
import { launchChromium } from '../tests/e2e/browser.js';

const [project, outDir = 'docs/screenshots'] = process.argv.slice(2);
if (!project) throw new Error('usage: tools/screenshots.ts <project> [outDir]');
fs.mkdirSync(outDir, { recursive: true });
const session = new Session();
await call(session, 'project.open', { path: project });
const server = await startServer({ session });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const shot = async (hash: string, file: string, ready: string) => {
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
  await page.goto(`${server.openUrl}#/detections`);
  await page.waitForSelector('[data-testid="det-images"] li');
  await page.click('[data-testid="det-filter-fp"]');
  await page.locator('[data-testid="det-images"] li button').first().click();
  await page.waitForSelector('[data-testid="det-viewer"] img');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(outDir, 'detections.png'), fullPage: false });
  console.log('detections.png: #/detections');
} finally {
  await browser.close();
  await server.close();
  await session.dispose();
}
