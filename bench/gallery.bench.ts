/**
 * Gallery benchmark (issue "workstation UI"): a 100,000-image project scrolled in browser mode with Debian's
 * Chromium. Every animation frame, the page checks what the user sees in the grid's viewport:
 *   - blank: a visible grid position with no cell at all (the virtual window fell behind the scroll);
 *   - placeholder: a cell whose image record has not arrived yet (grey skeleton);
 *   - thumbnail pending: a cell with its record but the thumbnail not decoded yet.
 * Two ways of scrolling: the mouse wheel (fast, steady flicks) and jumps across the whole project (dragging the
 * scrollbar), after which it times how long until every visible thumbnail is shown.
 *
 * The images are 1,000 distinct 640x480 JPEGs hard-linked under 100,000 names; each row has its own hash, so
 * every cell's thumbnail is made by the server on first sight, as in a freshly imported project. Each image has
 * three boxes, drawn over its thumbnail (the gallery's overlays).
 *
 *   npm run bench:gallery            (100,000 images)
 *   npm run bench:gallery -- 20000   (another count)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { call } from '../src-main/api/dispatch.js';
import { Session } from '../src-main/api/session.js';
import { startServer } from '../src-main/server.js';
import { ProjectStore } from '../src-main/store/project.js';
import type { NewImage } from '../src-main/store/images.js';
import { launchChromium } from '../tests/e2e/browser.js';

const N = Number(process.argv[2] ?? 100_000);
const DISTINCT = 1000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starling-bench-gallery-'));
process.env.STARLING_HOME = path.join(dir, 'home');
const projectDir = path.join(dir, 'proj');

/** Installs the per-frame census in the page (a string: tsx would wrap a function with a helper the page lacks). */
const CENSUS = `(() => {
  const scroller = document.querySelector('.grid-scroller');
  const census = { frames: 0, blank: 0, placeholder: 0, pending: 0, maxBlankCells: 0 };
  window.__census = census;
  window.__counting = true;
  const tick = () => {
    if (!window.__counting) return;
    const cells = scroller.querySelectorAll('[data-testid="gallery-cell"]');
    if (cells.length) {
      const cols = Math.max(1, Math.floor(scroller.clientWidth / 176));
      const total = Number(scroller.getAttribute('data-total'));
      const top = scroller.scrollTop;
      const bottom = top + scroller.clientHeight;
      const rendered = new Map();
      for (const c of cells) rendered.set(Number(c.getAttribute('data-index')), c);
      let blank = 0, placeholder = 0, pending = 0;
      for (let row = Math.floor(top / 176); row * 176 < bottom; row++) {
        for (let col = 0; col < cols; col++) {
          const i = row * cols + col;
          if (i >= total) break;
          const c = rendered.get(i);
          if (!c) { blank++; continue; }
          if (c.querySelector('.skeleton')) { placeholder++; continue; }
          const img = c.querySelector('img');
          if (img && !(img.complete && img.naturalWidth > 0)) pending++;
        }
      }
      census.frames++;
      if (blank) census.blank++;
      if (placeholder) census.placeholder++;
      if (pending) census.pending++;
      census.maxBlankCells = Math.max(census.maxBlankCells, blank);
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;

const STOP = '(() => { window.__counting = false; return window.__census; })()';

/** Milliseconds until every cell in the viewport shows a decoded thumbnail. */
async function timeToFilled(page: Page): Promise<number> {
  return (await page.evaluate(`new Promise((resolve) => {
    const scroller = document.querySelector('.grid-scroller');
    const t0 = performance.now();
    const check = () => {
      const top = scroller.scrollTop, bottom = top + scroller.clientHeight;
      const cells = [...scroller.querySelectorAll('[data-testid="gallery-cell"]')].filter((c) => {
        const y = parseFloat(c.style.top);
        return y + 160 > top && y < bottom;
      });
      const done = cells.length > 0 && cells.every((c) => {
        const img = c.querySelector('img');
        return img && img.complete && img.naturalWidth > 0;
      });
      if (done || performance.now() - t0 > 30000) resolve(performance.now() - t0);
      else requestAnimationFrame(check);
    };
    check();
  })`)) as number;
}

/** Sets the scroll position to 20 places across the project (a scrollbar drag); fill time after each. */
async function jumpAround(page: Page): Promise<number[]> {
  const fills: number[] = [];
  for (let k = 0; k < 20; k++) {
    const frac = ((k * 7919) % 20) / 20 + 0.025;
    await page.evaluate(`(() => {
      const s = document.querySelector('.grid-scroller');
      s.scrollTop = ${frac} * (s.scrollHeight - s.clientHeight);
    })()`);
    fills.push(await timeToFilled(page));
  }
  return fills;
}

interface Census {
  frames: number;
  blank: number;
  placeholder: number;
  pending: number;
  maxBlankCells: number;
}

const session = new Session();
try {
  console.log(`writing ${DISTINCT} distinct 640x480 JPEGs and ${N.toLocaleString()} hard links ...`);
  const sources: string[] = [];
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  for (let i = 0; i < DISTINCT; i++) {
    const file = path.join(dir, 'src', `src_${i}.jpg`);
    await sharp({
      create: {
        width: 640,
        height: 480,
        channels: 3,
        background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 },
        noise: { type: 'gaussian', mean: 100, sigma: 30 },
      },
    })
      .jpeg({ quality: 80 })
      .toFile(file);
    sources.push(file);
  }
  const rows: NewImage[] = [];
  for (let i = 0; i < N; i++) {
    const rel = `images/${String(Math.floor(i / 1000)).padStart(3, '0')}/img_${String(i).padStart(6, '0')}.jpg`;
    fs.mkdirSync(path.join(projectDir, path.dirname(rel)), { recursive: true });
    fs.linkSync(sources[i % DISTINCT]!, path.join(projectDir, rel));
    rows.push({
      path: rel,
      hash: `bench${i.toString(16).padStart(35, '0')}`,
      width: 640,
      height: 480,
      split: i % 10 === 0 ? 'val' : i % 10 === 1 ? 'test' : 'train',
    });
  }
  const store = ProjectStore.create(projectDir, 'gallery bench');
  const ids = store.images.addMany(rows);
  // Three boxes on each image, so the thumbnails carry overlays (300,000 boxes at 100,000 images).
  const classes = ['cat', 'dog', 'bird'].map((name) => store.classes.create(name).id);
  for (let off = 0; off < ids.length; off += 10_000)
    store.annotations.addMany(
      ids.slice(off, off + 10_000).flatMap((imageId, k) =>
        [0, 1, 2].map((j) => ({
          imageId,
          classId: classes[j]!,
          x: 40 + 150 * j,
          y: 60 + ((off + k) % 200),
          w: 90,
          h: 70,
        })),
      ),
    );
  store.close();
  await call(session, 'project.open', { path: projectDir });

  const server = await startServer({ session });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const t0 = Date.now();
    await page.goto(`${server.openUrl}#/gallery`);
    await page.waitForSelector('[data-testid="gallery-cell"] img');
    const firstScreen = Date.now() - t0 + (await timeToFilled(page));
    const grid = (await page.locator('.grid-scroller').boundingBox())!;
    await page.mouse.move(grid.x + grid.width / 2, grid.y + grid.height / 2);

    // Wheel: flicks of 600 px, as fast as input is delivered, for about 3 s.
    await page.evaluate(CENSUS);
    const tw = Date.now();
    let wheeled = 0;
    while (Date.now() - tw < 3000) {
      await page.mouse.wheel(0, 600);
      wheeled += 600;
    }
    const wheelSeconds = (Date.now() - tw) / 1000;
    const wheel = (await page.evaluate(STOP)) as Census;
    const afterWheel = await timeToFilled(page);

    // Jumps: the scrollbar dragged to 20 places across the project; fill time after each.
    await page.evaluate(CENSUS);
    const fills = await jumpAround(page);
    const jumps = (await page.evaluate(STOP)) as Census;
    // The same 20 places again: thumbnails now come from the server's disk cache (or the page's memory).
    const revisits = await jumpAround(page);
    const q = (xs: number[], p: number) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(0);
    };

    const rowsPerSecond = wheeled / 176 / wheelSeconds;
    console.log(
      `\nGallery benchmark (Chromium ${browser.version()}, browser mode, 1600x900, ${N.toLocaleString()} images)`,
    );
    console.log('| measure | value | target |');
    console.log('|---|---|---|');
    console.log(`| first screen of thumbnails after opening | ${firstScreen.toFixed(0)} ms | |`);
    console.log(
      `| wheel scrolling: frames with a blank grid position | ${wheel.blank} of ${wheel.frames} (${rowsPerSecond.toFixed(0)} rows/s) | 0 |`,
    );
    console.log(`| wheel scrolling: frames with a placeholder cell | ${wheel.placeholder} of ${wheel.frames} | |`);
    console.log(`| wheel scrolling: frames with a thumbnail still loading | ${wheel.pending} of ${wheel.frames} | |`);
    console.log(`| after the wheel stops: all visible thumbnails shown | ${afterWheel.toFixed(0)} ms | |`);
    console.log(`| 20 scrollbar jumps: frames with a blank grid position | ${jumps.blank} of ${jumps.frames} | 0 |`);
    console.log(`| 20 scrollbar jumps: frames with a placeholder cell | ${jumps.placeholder} of ${jumps.frames} | |`);
    console.log(
      `| jump to all visible thumbnails shown (made on first sight), p50 / p95 | ${q(fills, 0.5)} / ${q(fills, 0.95)} ms | |`,
    );
    console.log(`| jump back to a place seen before, p50 / p95 | ${q(revisits, 0.5)} / ${q(revisits, 0.95)} ms | |`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await session.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}
