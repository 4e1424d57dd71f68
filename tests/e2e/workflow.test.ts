import fs from 'node:fs';
import YAML from 'yaml';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { seedInit } from '../../src-main/engine/nn.js';
import { exportDetector } from '../../src-main/export/detector.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { Rng } from '../../src-main/util/random.js';
import { ultralyticsFixture } from '../third-party.js';
import { artifactPath, startE2E, stopE2E, type E2E } from './browser.js';

const FIX = ultralyticsFixture();

let e: E2E | undefined;
let tmpDir: string;
let session: E2E['session'];
let server: E2E['server'];
let browser: Browser;
let teacherFile: string;

beforeAll(async () => {
  e = await startE2E(async (s, dir) => {
    session = s;
    tmpDir = dir;
    const { jobId } = await call(session, 'sample.create', {
      dir: `${dir}/sample`,
      seed: 2,
      counts: { train: 6, pool: 4, val: 2, test: 2 },
      open: true,
    });
    await session.jobs.wait(jobId);
    // An untrained detector as a teacher, its class logits spread so it proposes boxes.
    seedInit(8);
    const d = buildDetector({ scale: 'n', backbone: 'shufflenetv2_x0_5', nc: 6 });
    const r = new Rng('e2e-teacher');
    for (const [name, p] of d.namedTensors())
      if (/cv3\.\d\.2\.bias$/.test(name)) p.data = p.data.map(() => r.range(-2, 1));
    const names = session
      .requireProject()
      .classes.list()
      .map((c) => c.name);
    teacherFile = `${dir}/shapes-teacher.onnx`;
    fs.writeFileSync(teacherFile, exportDetector(d, { imgsz: 96, style: 'raw', names }).bytes);
  });
  ({ server, browser } = e);
});

afterAll(() => stopE2E(e));

describe('teachers, training and runs views, end to end', () => {
  it('registers a teacher, pseudo-labels the pool, and sends the user to review', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/teachers`);
    await page.fill('[data-testid="teacher-path"]', teacherFile);
    await page.click('[data-testid="teacher-inspect"]');
    await expect
      .poll(() => page.textContent('[data-testid="teacher-probe"]'))
      .toMatch(/YOLOv8 \/ YOLO11.*\(detected\).*96×96.*6 classes: circle/);
    await page.click('[data-testid="teacher-register"]');
    await expect.poll(() => page.locator('[data-testid="teacher-row"]').count()).toBe(1);
    // Thresholds out of range are said beside their fields, and Run waits until they are right.
    await page.fill('[data-testid="pseudo-iou"]', '2');
    await expect.poll(() => page.textContent('[data-testid="pseudo-iou-error"]')).toBe('An overlap from 0 to 1');
    expect(await page.isDisabled('[data-testid="pseudo-run"]')).toBe(true);
    await page.fill('[data-testid="pseudo-iou"]', '0.6');
    await page.click('[data-testid="pseudo-run"]');
    await expect
      .poll(() => page.textContent('[data-testid="teachers-message"]'), { timeout: 60_000 })
      .toMatch(/Labeled 4 images/);
    const counts = await call(session, 'review.counts', {});
    expect(counts.pending).toBeGreaterThan(0);
    await expect.poll(() => page.textContent('[data-testid="review-counts"]')).toContain(`${counts.pending} pending`);
    await page.screenshot({ path: artifactPath('teachers.png') });
    await page.click('text=Review them');
    await page.waitForSelector('[data-testid="annotator-canvas"] canvas');
    await expect.poll(() => page.textContent('[data-testid="pending-count"]')).toMatch(/[1-9]\d* pending/);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('starts a tiny training, shows its progress, and lists the run with its figures', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/train`);
    await expect.poll(() => page.textContent('[data-testid="train-card"]')).toMatch(/M parameters.*GFLOPs/);
    await page.fill('[data-testid="train-epochs"]', '2');
    await page.fill('[data-testid="train-batch"]', '3');
    // A wrong value is said in words beside its field, and nothing starts until it is right.
    await page.fill('[data-testid="train-imgsz"]', '100');
    await expect
      .poll(() => page.textContent('[data-testid="error-imgsz"]'))
      .toBe("Image size must be a multiple of 32 (the model's largest stride): 96?");
    expect(await page.isDisabled('[data-testid="train-start"]')).toBe(true);
    await page.fill('[data-testid="train-imgsz"]', '64');
    await expect.poll(() => page.locator('[data-testid="error-imgsz"]').count()).toBe(0);
    await page.click('[data-testid="train-start"]');
    await expect
      .poll(() => page.textContent('[data-testid="train-progress"]'), { timeout: 60_000 })
      .toMatch(/step \d+\/4/);
    await expect.poll(() => page.textContent('[data-testid="train-progress"]'), { timeout: 120_000 }).toContain('done');
    await expect.poll(() => page.locator('[data-testid="runs-table"] tbody tr').count()).toBe(1);
    const row = page.locator('[data-testid="runs-table"] tbody tr').first();
    await expect.poll(() => row.textContent()).toMatch(/done/);
    expect(await row.locator('[data-col="epochs"]').textContent()).toBe('2');
    // The charts' legends: human names, each with the last epoch's value (not a dash), whole-number epochs.
    const legend = page.locator('[data-testid="train-charts"] .u-legend').first();
    await expect.poll(() => legend.locator('.u-series').count()).toBeGreaterThan(2);
    const rows = await legend.locator('.u-series').allTextContents();
    expect(rows[0]).toMatch(/^epoch\s*2$/);
    expect(rows.slice(1).join('|')).toMatch(/box loss/);
    for (const r of rows.slice(1)) expect(r).toMatch(/loss\s*-?\d+(\.\d+)?(e-?\d+)?$/);
    await page.screenshot({ path: artifactPath('train.png') });
    // The leaderboard: a finished run was evaluated on val as it finished, with the one evaluator.
    await page.goto(`${server.openUrl}#/runs`);
    await page.waitForSelector('[data-testid="runs-view"]');
    await expect
      .poll(() => page.locator('[data-testid="runs-table"] tbody tr [data-col="map"]').first().textContent())
      .toMatch(/^\d\.\d{3}$/);
    // Nothing is missing: the leaderboard has nothing to evaluate.
    await expect.poll(() => page.textContent('[data-testid="leaderboard-evaluate-all"]')).toBe('Evaluate 0 on val');
    expect(await page.isDisabled('[data-testid="leaderboard-evaluate-all"]')).toBe(true);
    const first = page.locator('[data-testid="runs-table"] tbody tr').first();
    await expect.poll(() => first.locator('[data-col="latency"]').textContent(), { timeout: 60_000 }).toMatch(/\d ms/);
    expect(await first.locator('[data-col="map"]').textContent()).toMatch(/^\d\.\d{3}$/);
    expect(await first.locator('[data-col="params"]').textContent()).toMatch(/^\d\.\d\dM$/);
    expect(await first.locator('[data-col="train"]').textContent()).toMatch(/\d (s|min)$/);
    // A second run (a different backbone) to compare side by side; sorting by latency orders the rows.
    const second = await call(session, 'train.start', {
      model: { backbone: 'shufflenetv2_x0_5', head: 'yolo', scale: 'n' },
      data: { imgsz: 64, batch: 3 },
      budget: { epochs: 1 },
    });
    await session.jobs.wait(second.jobId);
    await page.reload();
    await page.waitForSelector('[data-testid="runs-view"]');
    await expect.poll(() => page.locator('[data-testid="runs-table"] tbody tr').count()).toBe(2);
    await expect
      .poll(() => page.locator('[data-testid="runs-table"] [data-col="latency"]').allTextContents(), {
        timeout: 60_000,
      })
      .toEqual([expect.stringMatching(/ms/), expect.stringMatching(/ms/)]);
    await page.click('[data-testid="sort-latency"]'); // ascending: fastest first
    const latencies = (await page.locator('[data-testid="runs-table"] [data-col="latency"]').allTextContents()).map(
      (t) => parseFloat(t),
    );
    expect(latencies[0]).toBeLessThanOrEqual(latencies[1]!);
    const boxes = page.locator('[data-testid="runs-table"] tbody input[type="checkbox"]');
    for (let i = 0; i < 2; i++) if (!(await boxes.nth(i).isChecked())) await boxes.nth(i).check();
    await expect.poll(() => page.textContent('[data-testid="runs-compare"]')).toMatch(/shufflenetv2_x0_5/);
    expect(await page.textContent('[data-testid="runs-compare"]')).toMatch(/latency[\s\S]*ms/);
    // Test split: its own evaluations, missing until asked for.
    await page.selectOption('[data-testid="leaderboard-split"]', 'test');
    await expect.poll(() => page.textContent('[data-testid="leaderboard-evaluate-all"]')).toMatch(/Evaluate 2 on test/);
    await page.screenshot({ path: artifactPath('runs.png'), fullPage: true });
    // Export the run and see the file verified on onnxruntime.
    await page.goto(`${server.openUrl}#/export`);
    await page.waitForSelector('[data-testid="export-go"]');
    await page.selectOption('[data-testid="export-style"]', 'nms');
    // The default file follows the style until the user types their own.
    expect(await page.inputValue('[data-testid="export-out"]')).toMatch(/model-nms\.onnx$/);
    // The destination is checked as it is typed, and the image size in words beside its field.
    await page.fill('[data-testid="export-out"]', `${tmpDir}/not/there/x.onnx`);
    await expect.poll(() => page.textContent('[data-testid="export-out-check"]')).toMatch(/both will be created/);
    await page.fill('[data-testid="export-imgsz"]', '100');
    await expect.poll(() => page.textContent('[data-testid="export-imgsz-error"]')).toMatch(/multiple of 32.*96\?/);
    expect(await page.isDisabled('[data-testid="export-go"]')).toBe(true);
    await page.fill('[data-testid="export-imgsz"]', '64');
    const out = `${tmpDir}/exported.onnx`;
    await page.fill('[data-testid="export-out"]', out);
    await expect.poll(() => page.textContent('[data-testid="export-out-check"]')).toMatch(/will be created/);
    await page.click('[data-testid="export-go"]');
    await expect
      .poll(() => page.textContent('[data-testid="export-result"]'), { timeout: 60_000 })
      .toMatch(/output0 \[1, \d+, 6\][\s\S]*ms per image/);
    expect(fs.existsSync(out)).toBe(true);
    await page.screenshot({ path: artifactPath('export.png') });
    // Exporting onto an existing file asks first; declining keeps the file and says why nothing was written.
    const written = fs.statSync(out).mtimeMs;
    await page.click('[data-testid="export-go"]');
    await expect.poll(() => page.textContent('[data-testid="dialog"]')).toMatch(`${out} exists. Replace it?`);
    await page.click('[data-testid="dialog-cancel"]');
    await expect
      .poll(() => page.textContent('[data-testid="export-view"]'))
      .toMatch(/exists: replace it, or choose another file/);
    expect(fs.statSync(out).mtimeMs).toBe(written);

    // Detection review: evaluate, see the confusion matrix; a confident prediction where no label is becomes a
    // label with one key.
    const run = (await call(session, 'runs.list', {})).at(-1)!; // the view opens the newest run
    await page.goto(`${server.openUrl}#/detections`);
    await page.waitForSelector('[data-testid="det-confusion"]');
    await page.click('[data-testid="det-evaluate"]');
    await expect
      .poll(() => page.textContent('[data-testid="det-status"]'), { timeout: 60_000 })
      .not.toMatch(/Evaluating/);
    expect((await call(session, 'runs.review', { id: run.id, split: 'val' })).images.length).toBe(2);
    const val = (await call(session, 'images.list', { filter: { split: 'val' } })).items[0]!;
    const cls = session.requireProject().classes.list()[0]!;
    session.requireProject().runs.putPredictions(
      run.id,
      [val.id],
      [
        { imageId: val.id, classId: cls.id, x: 2, y: 3, w: 20, h: 18, score: 0.9 },
        { imageId: val.id, classId: cls.id, x: 30, y: 31, w: 15, h: 14, score: 0.8 },
      ],
    );
    await page.reload();
    await page.waitForSelector('[data-testid="det-images"] li');
    await page
      .locator('[data-testid="det-images"] li', { hasText: val.path.split('/').at(-1)! })
      .locator('button')
      .click();
    const viewer = page.locator('[data-testid="det-viewer"]');
    await page.waitForSelector('[data-testid="det-viewer"] canvas');
    // The scene fits the image once its pixels are in.
    await expect.poll(async () => Number(await viewer.getAttribute('data-fit'))).not.toBe(1);
    await viewer.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('detections.png') });
    /** Clicks an image pixel of the viewer, through the view transform it publishes. */
    const clickAt = async (x: number, y: number) => {
      const b = (await viewer.boundingBox())!;
      const [s, ox, oy] = await Promise.all(
        ['data-scale', 'data-x', 'data-y'].map(async (a) => Number(await viewer.getAttribute(a))),
      );
      await page.mouse.click(b.x + ox! + x * s!, b.y + oy! + y * s!);
    };
    const preds = await call(session, 'runs.predictions', { id: run.id, imageId: val.id });
    const firstPred = preds.find((p) => p.x === 2)!;
    const secondPred = preds.find((p) => p.x === 30)!;
    await clickAt(12, 12);
    await expect.poll(() => viewer.getAttribute('data-picked')).toBe(`pred:${firstPred.id}`);
    await page.keyboard.press('l');
    await expect
      .poll(async () =>
        (await call(session, 'images.get', { id: val.id })).annotations.some(
          (a) =>
            a.source === `model:${run.id}` &&
            a.review === 'accepted' &&
            a.x === 2 &&
            a.y === 3 &&
            a.w === 20 &&
            a.h === 18,
        ),
      )
      .toBe(true);
    // The first prediction now matches the new label: L again adds nothing. X on the other records it as a
    // rejected box (a false positive, declined).
    // The new label lies exactly under the prediction; the prediction stays on top, so the click still picks it.
    await clickAt(1, 1); // the background: nothing picked
    await expect.poll(() => viewer.getAttribute('data-picked')).toBe('');
    await clickAt(12, 12);
    await expect.poll(() => viewer.getAttribute('data-picked')).toBe(`pred:${firstPred.id}`);
    await page.keyboard.press('l');
    await expect.poll(() => page.textContent('[data-testid="det-message"]')).toMatch(/matches a label/);
    await clickAt(37, 38);
    await expect.poll(() => viewer.getAttribute('data-picked')).toBe(`pred:${secondPred.id}`);
    await page.keyboard.press('x');
    await expect
      .poll(async () =>
        (await call(session, 'images.get', { id: val.id })).annotations
          .filter((a) => a.source === `model:${run.id}`)
          .map((a) => `${a.x} ${a.review} ${a.score}`),
      )
      .toEqual(['2 accepted 0.9', '30 rejected 0.8']);
    await clickAt(37, 38);
    await page.keyboard.press('x'); // once is enough
    await expect.poll(() => page.textContent('[data-testid="det-message"]')).toMatch(/already recorded/);
    expect(
      (await call(session, 'images.get', { id: val.id })).annotations.filter((a) => a.review === 'rejected'),
    ).toHaveLength(1);
    // The viewer zooms around the cursor and 0 fits; the matrix shows rows as shares; A/D walk the list.
    const fit = Number(await viewer.getAttribute('data-fit'));
    expect(Number(await viewer.getAttribute('data-scale'))).toBeCloseTo(fit, 6); // L and X kept the view
    const vb = (await viewer.boundingBox())!;
    await page.mouse.move(vb.x + vb.width / 2, vb.y + vb.height / 2);
    await page.mouse.wheel(0, -300);
    await expect.poll(async () => Number(await viewer.getAttribute('data-scale'))).toBeGreaterThan(fit * 1.1);
    // A drag pans the zoomed image.
    const x0 = Number(await viewer.getAttribute('data-x'));
    await page.mouse.down();
    await page.mouse.move(vb.x + vb.width / 2 + 60, vb.y + vb.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(async () => Number(await viewer.getAttribute('data-x'))).toBeCloseTo(x0 + 60, 0);
    await page.keyboard.press('0');
    await expect.poll(async () => Number(await viewer.getAttribute('data-scale'))).toBeCloseTo(fit, 6);
    await page.check('[data-testid="det-normalise"]');
    await expect
      .poll(() => page.locator('[data-testid="det-confusion"] td button').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringMatching(/^[01]\.\d\d$/)]));
    // A confusion cell filters the list, and the filter stays through A/D and a change of the slider.
    await page.locator('[data-testid="det-confusion"] td button').first().click();
    await expect.poll(() => page.isVisible('[data-testid="det-clear-cell"]')).toBe(true);
    await page.locator('h2').first().click();
    await page.keyboard.press('d');
    await page.locator('h1').first().click();
    await page.locator('input[type="range"]').first().fill('0.3');
    await page.locator('input[type="range"]').first().dispatchEvent('change');
    await expect.poll(() => page.textContent('[data-testid="det-status"]')).not.toMatch(/Evaluating/);
    expect(await page.isVisible('[data-testid="det-clear-cell"]')).toBe(true);
    // The same cell stays marked open in the new review (its images re-read at the new confidence).
    expect(await page.locator('[data-testid="det-confusion"] td.open').count()).toBe(1);
    await page.click('[data-testid="det-clear-cell"]');
    const heading = () => page.textContent('h2');
    // Both val images are listed again; from the first, D and A walk to the second and back.
    await expect.poll(() => page.locator('[data-testid="det-images"] li').count()).toBe(2);
    await page.locator('[data-testid="det-images"] li button').first().click();
    await expect
      .poll(() => page.locator('[data-testid="det-images"] li').first().getAttribute('class'))
      .toMatch(/current/);
    const before = await heading();
    await page.locator('h2').click(); // the keys go to the view, not the check box
    await page.keyboard.press('d');
    await expect.poll(heading).not.toBe(before);
    await page.keyboard.press('a');
    await expect.poll(heading).toBe(before);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('cancels a training from the Train view and resumes it from the runs table', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/train`);
    // The model card counts the project's classes; the device list says what this install has.
    await expect.poll(() => page.textContent('[data-testid="train-card"]')).toMatch(/\(6 classes\)/);
    // runtime.devices answers on its own request, so the label may fill in after the card.
    await expect
      .poll(() => page.locator('[data-testid="train-device"] option[value="auto"]').textContent())
      .toMatch(/auto \(cpu\)/);
    await page.fill('[data-testid="train-epochs"]', '200');
    await page.fill('[data-testid="train-batch"]', '3');
    await page.fill('input[type="number"][step="32"]', '64');
    const before = (await call(session, 'runs.list', {})).length;
    await page.click('[data-testid="train-start"]');
    await expect
      .poll(() => page.textContent('[data-testid="train-progress"]'), { timeout: 60_000 })
      .toMatch(/step \d+/);
    await page.click('[data-testid="train-cancel"]');
    await expect
      .poll(() => page.textContent('[data-testid="train-progress"]'), { timeout: 60_000 })
      .toMatch(/cancelled/);
    const run = (await call(session, 'runs.list', {})).at(-1)!;
    expect((await call(session, 'runs.list', {})).length).toBe(before + 1);
    expect(run.status).toBe('cancelled');
    // Resume from the leaderboard row, then cancel again: the same run continues, no new run is made.
    await page
      .locator(`[data-testid="runs-table"] tr[data-run="${run.id}"]`)
      .locator('button', { hasText: 'Resume' })
      .click();
    await expect
      .poll(async () => (await call(session, 'runs.list', {})).find((r) => r.id === run.id)!.status, {
        timeout: 60_000,
      })
      .toBe('running');
    await expect.poll(() => page.locator('[data-testid="train-cancel"]').count(), { timeout: 60_000 }).toBe(1);
    await page.click('[data-testid="train-cancel"]');
    await expect
      .poll(async () => (await call(session, 'runs.list', {})).find((r) => r.id === run.id)!.status, {
        timeout: 60_000,
      })
      .toBe('cancelled');
    expect((await call(session, 'runs.list', {})).length).toBe(before + 1);
    await page.screenshot({ path: artifactPath('train-cancelled.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it.skipIf(!FIX)(
    'previews a start from a weights file, follows its model, and fine-tunes from a run',
    async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.openUrl}#/train`);
      await expect.poll(() => page.textContent('[data-testid="train-card"]')).toMatch(/\(6 classes\)/);
      // Every registered architecture is offered, the P2-P5 variants too.
      const architectures = await page.$$eval('[data-testid="train-model"] option', (os) =>
        os.map((o) => (o as HTMLOptionElement).value),
      );
      expect(architectures).toEqual(expect.arrayContaining(['yolo11', 'yolov8', 'yolo11-p2', 'yolov8-p2']));
      // The real Ultralytics checkpoint: everything loads and the selects follow the model it holds.
      await page.selectOption('[data-testid="train-from"]', 'file');
      await page.fill('[data-testid="train-weights-file"]', `${FIX}/yolov8n-sample6.pt`);
      await page.press('[data-testid="train-weights-file"]', 'Tab');
      const preview = page.locator('[data-testid="train-weights-preview"]');
      await expect.poll(() => preview.textContent()).toMatch(/298 tensors load \(100% of the parameters\)/);
      expect(await preview.textContent()).toMatch(
        /Ultralytics 8\.1\.34 checkpoint: yolov8n\.yaml, 6\s+classes \(circle/,
      );
      expect(await page.textContent('[data-testid="train-weights-adopted"]')).toMatch(/model yolov8, backbone yolov8/);
      expect(await page.inputValue('[data-testid="train-model"]')).toBe('yolov8');
      expect(await page.textContent('[data-testid="train-start"]')).toBe('Start fine-tuning');
      // Another backbone does not fit the file: said plainly, and Start waits for "Start anyway".
      await page.selectOption('[data-testid="train-backbone"]', 'starnet_s050');
      await expect
        .poll(() => page.textContent('[data-testid="train-weights-verdict"]'))
        .toMatch(/not weights for this model/);
      expect(await page.isDisabled('[data-testid="train-start"]')).toBe(true);
      await page.check('[data-testid="train-force"]');
      expect(await page.isDisabled('[data-testid="train-start"]')).toBe(false);
      await page.screenshot({ path: artifactPath('train-start-from.png'), fullPage: true });

      // Fine-tune from run 1 with its backbone frozen: the card counts the trainable part; the row says "run 1".
      const base = (await call(session, 'runs.list', {})).find((r) => r.status === 'done')!;
      await page.selectOption('[data-testid="train-from"]', `run:${base.id}`);
      await expect
        .poll(() => page.textContent('[data-testid="train-weights-preview"]'))
        .toMatch(/100% of the parameters/);
      expect(await page.inputValue('[data-testid="train-backbone"]')).toBe(base.settings.model.backbone);
      await page.fill('[data-testid="train-freeze"]', '1');
      await page.press('[data-testid="train-freeze"]', 'Tab');
      await expect.poll(() => page.textContent('[data-testid="train-card"]')).toMatch(/M trainable/);
      await page.fill('[data-testid="train-epochs"]', '1');
      await page.fill('[data-testid="train-batch"]', '3');
      await page.fill('input[type="number"][step="32"]', '64');
      const before = (await call(session, 'runs.list', {})).length;
      await page.click('[data-testid="train-start"]');
      await expect
        .poll(() => page.textContent('[data-testid="train-progress"]'), { timeout: 120_000 })
        .toContain('done');
      const runs = await call(session, 'runs.list', {});
      expect(runs.length).toBe(before + 1);
      const tuned = runs.at(-1)!;
      expect(tuned.settings.weights).toMatchObject({ from: `run:${base.id}`, freeze: 1 });
      await expect
        .poll(() =>
          page.locator(`[data-testid="runs-table"] tr[data-run="${tuned.id}"] [data-col="from"]`).textContent(),
        )
        .toBe(`run ${base.id}`);
      expect(errors).toEqual([]);
      await page.close();
    },
    240_000,
  );

  it('distils from a registered teacher and a run, label-free with adaptive weights, and says so everywhere', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/train`);
    await expect.poll(() => page.textContent('[data-testid="train-card"]')).toMatch(/\(6 classes\)/);
    await page.fill('input[type="number"][step="32"]', '64');
    await page.press('input[type="number"][step="32"]', 'Tab');
    const base = (await call(session, 'runs.list', {})).find((r) => r.status === 'done')!;
    // The 96-px teacher does not line up with a 64-px student: box level; the run of the same model: dense.
    await page.check('[data-testid="distill-teacher"][data-teacher="shapes-teacher"]');
    await page.check(`[data-testid="distill-teacher"][data-teacher="run:${base.id}"]`);
    const preview = page.locator('[data-testid="distill-preview"] li');
    await expect.poll(() => preview.count()).toBe(2);
    expect(await preview.nth(0).textContent()).toMatch(/shapes-teacher.*96px.*boxes.*teaches circle, square/s);
    expect(await preview.nth(1).textContent()).toMatch(/dense.*teaches circle/s);
    await page.selectOption('[data-testid="distill-data"]', 'unlabeled');
    await page.selectOption('[data-testid="train-loss-weights"]', 'adaptive');
    await page.selectOption('[data-testid="train-from"]', '');
    await page.fill('[data-testid="train-epochs"]', '1');
    await page.fill('[data-testid="train-batch"]', '2');
    await page.screenshot({ path: artifactPath('train-distill.png'), fullPage: true });
    const before = (await call(session, 'runs.list', {})).length;
    await page.click('[data-testid="train-start"]');
    await expect.poll(() => page.textContent('[data-testid="train-progress"]'), { timeout: 120_000 }).toContain('done');
    const run = (await call(session, 'runs.list', {})).at(-1)!;
    expect((await call(session, 'runs.list', {})).length).toBe(before + 1);
    expect(run.settings.distill).toMatchObject({ teachers: ['shapes-teacher', `run:${base.id}`], data: 'unlabeled' });
    expect(run.settings.loss.weighting).toBe('adaptive');
    // The run record keeps each teacher with its file's hash; the leaderboard names them and filters by them.
    const summary = run.summary as { distill?: { teachers: { spec: string; mode: string; sha256: string }[] } };
    expect(summary.distill!.teachers.map((t) => [t.spec, t.mode])).toEqual([
      ['shapes-teacher', 'boxes'],
      [`run:${base.id}`, 'dense'],
    ]);
    for (const t of summary.distill!.teachers) expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    const row = page.locator(`[data-testid="runs-table"] tr[data-run="${run.id}"]`);
    await expect.poll(() => row.locator('[data-col="distilled"]').textContent()).toMatch(/shapes-teacher/);
    await page.selectOption('[data-testid="leaderboard-distilled-filter"]', 'distilled');
    await expect.poll(() => page.locator('[data-testid="runs-table"] tbody tr').count()).toBe(1);
    await page.selectOption('[data-testid="leaderboard-distilled-filter"]', 'plain');
    await expect.poll(() => row.count()).toBe(0);
    // The live charts show the distillation terms (the last run is the one charted on a fresh load).
    await page.reload();
    await expect.poll(() => page.textContent('[data-testid="train-charts"]')).toMatch(/distillation cls loss/);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('names, annotates and deletes a run from the runs table', async () => {
    const started = await call(session, 'train.start', {
      model: { backbone: 'shufflenetv2_x0_5', head: 'yolo', scale: 'n' },
      data: { imgsz: 64, batch: 3 },
      budget: { epochs: 1 },
      name: 'throwaway',
    });
    const done = await session.jobs.wait(started.jobId);
    const id = (done.result as { runId: number }).runId;
    const dir = (await call(session, 'runs.list', {})).find((r) => r.id === id)!.artifacts.dir!;
    expect(fs.existsSync(dir)).toBe(true);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/runs`);
    const row = page.locator(`[data-testid="runs-table"] tr[data-run="${id}"]`);
    await row.locator('[data-testid="run-describe"]').click();
    await row.locator('[data-testid="run-name-input"]').fill('shufflenet baseline');
    await row.locator('[data-testid="run-note-input"]').fill('1 epoch, only to compare latency');
    await row.locator('[data-testid="run-describe-save"]').click();
    await expect.poll(() => row.locator('[data-col="name"]').textContent()).toMatch(/shufflenet baseline/);
    expect(await row.locator('[data-testid="run-note"]').textContent()).toBe('1 epoch, only to compare latency');
    const stored = (await call(session, 'runs.list', {})).find((r) => r.id === id)!;
    expect([stored.name, stored.note]).toEqual(['shufflenet baseline', '1 epoch, only to compare latency']);
    await row.locator('[data-testid="run-delete"]').click();
    await expect
      .poll(() => page.textContent('[data-testid="dialog"]'))
      .toMatch(/Delete run \d+ \(shufflenet baseline\)/);
    await page.click('[data-testid="dialog-ok"]');
    await expect.poll(() => row.count()).toBe(0);
    expect((await call(session, 'runs.list', {})).some((r) => r.id === id)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("loads an experiment file into the Train form, saves one, trains from it, and reuses a run's settings", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/train`);
    await page.waitForSelector('[data-testid="train-card"]');
    const file = `${tmpDir}/from-ui.yaml`;
    fs.writeFileSync(
      file,
      [
        'name: file-run',
        'model: { backbone: shufflenetv2_x0_5, scale: n }',
        'data: { imgsz: 96, batch: 3 }',
        'augment: { mosaic: 0, fliplr: 0.2 }',
        'optimizer: { name: AdamW, lr0: 0.003 }',
        'budget: { epochs: 1 }',
        'seed: 11',
      ].join('\n'),
    );
    // A bad file says what is wrong and leaves the form alone.
    fs.writeFileSync(`${tmpDir}/bad-ui.yaml`, 'augment:\n  mosaik: 1\n');
    await page.setInputFiles('[data-testid="train-load-experiment"]', `${tmpDir}/bad-ui.yaml`);
    await expect
      .poll(() => page.textContent('[data-testid="train-view"]'))
      .toMatch(/bad-ui\.yaml: augment\.mosaik: unknown key/);
    await page.setInputFiles('[data-testid="train-load-experiment"]', file);
    await expect
      .poll(() => page.textContent('[data-testid="train-loaded"]'))
      .toMatch(
        /Loaded from-ui\.yaml \(file-run\); it also sets augment\.mosaic, augment\.fliplr, optimizer\.lr0, seed/,
      );
    expect(await page.inputValue('[data-testid="train-imgsz"]')).toBe('96');
    expect(await page.inputValue('[data-testid="train-backbone"]')).toBe('shufflenetv2_x0_5');
    expect(await page.inputValue('[data-testid="train-epochs"]')).toBe('1');
    // The form wins over the file; saving writes every setting of the run it would start.
    await page.fill('[data-testid="train-batch"]', '2');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="train-save-experiment"]'),
    ]);
    expect(download.suggestedFilename()).toBe('file-run.yaml');
    const saved = fs.readFileSync((await download.path())!, 'utf8');
    expect(saved).toMatch(/^name: file-run$/m);
    expect(saved).toMatch(/^ {2}batch: 2$/m);
    expect(saved).toMatch(/^ {2}mosaic: 0$/m);
    expect(saved).toMatch(/^ {2}hsvS: 0\.7$/m); // defaults written out too
    const before = new Set((await call(session, 'runs.list', {})).map((r) => r.id));
    await page.click('[data-testid="train-start"]');
    await expect
      .poll(async () => (await call(session, 'runs.list', {})).find((r) => !before.has(r.id))?.status, {
        timeout: 60_000,
      })
      .toBe('done');
    const run = (await call(session, 'runs.list', {})).find((r) => !before.has(r.id))!;
    expect(run.name).toBe('file-run');
    expect(run.settings.augment).toMatchObject({ mosaic: 0, fliplr: 0.2 });
    expect(run.settings.optimizer).toMatchObject({ name: 'AdamW', lr0: 0.003 });
    expect([run.settings.data.batch, run.settings.seed]).toEqual([2, 11]);
    // A run's settings back into a fresh form: every field, and what the form does not show rides along.
    await page.reload();
    await page.waitForSelector('[data-testid="train-card"]');
    expect(await page.inputValue('[data-testid="train-imgsz"]')).toBe('320');
    await page.locator(`[data-testid="runs-table"] tr[data-run="${run.id}"] [data-testid="run-use-settings"]`).click();
    await expect.poll(() => page.inputValue('[data-testid="train-imgsz"]')).toBe('96');
    expect(await page.inputValue('[data-testid="train-batch"]')).toBe('2');
    expect(await page.textContent('[data-testid="train-loaded"]')).toMatch(
      new RegExp(`Loaded run ${run.id} \\(file-run\\)`),
    );
    // And a run's config from the runs table is the file the CLI prints.
    const [config] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`[data-testid="runs-table"] tr[data-run="${run.id}"] [data-testid="run-save-config"]`).click(),
    ]);
    const text = fs.readFileSync((await config.path())!, 'utf8');
    expect(text).toMatch(new RegExp(`^# Starling experiment: run ${run.id} of `));
    expect(text).toMatch(/^ {2}fliplr: 0\.2$/m);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("loads every preset into the Train form from its picker, and trains seed 002's YOLOv5 Ghost model", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/train`);
    await page.waitForSelector('[data-testid="train-preset"]');
    const files = fs.readdirSync('resources/configs').filter((f) => f.endsWith('.yaml'));
    const names = await page.$$eval('[data-testid="train-preset"] option:not([disabled])', (os) =>
      os.map((o) => (o as HTMLOptionElement).value),
    );
    expect(names.sort()).toEqual(files.map((f) => f.replace(/\.yaml$/, '')).sort());
    for (const f of files) {
      const model = (YAML.parse(fs.readFileSync(`resources/configs/${f}`, 'utf8')) as { model: Record<string, string> })
        .model;
      await page.selectOption('[data-testid="train-preset"]', f.replace(/\.yaml$/, ''));
      await expect
        .poll(() => page.textContent('[data-testid="train-loaded"]'))
        .toMatch(`Loaded preset ${f.replace(/\.yaml$/, '')}`);
      for (const k of ['model', 'backbone', 'head', 'scale'] as const)
        if (model[k]) expect(await page.inputValue(`[data-testid="train-${k}"]`), `${f}: ${k}`).toBe(model[k]);
    }
    // Seed 002's Ghost model, made small enough for a test; its recipe (SGD) rides along from the preset.
    await page.selectOption('[data-testid="train-preset"]', 'seed002-yolov5s-ghost');
    await expect.poll(() => page.inputValue('[data-testid="train-model"]')).toBe('yolov5-ghost');
    await page.fill('[data-testid="train-imgsz"]', '64');
    await page.fill('[data-testid="train-batch"]', '2');
    await page.fill('[data-testid="train-epochs"]', '1');
    await page.selectOption('[data-testid="train-scale"]', 'n');
    const before = new Set((await call(session, 'runs.list', {})).map((r) => r.id));
    await page.click('[data-testid="train-start"]');
    await expect
      .poll(async () => (await call(session, 'runs.list', {})).find((r) => !before.has(r.id))?.status, {
        timeout: 90_000,
      })
      .toBe('done');
    const run = (await call(session, 'runs.list', {})).find((r) => !before.has(r.id))!;
    expect(run.name).toBe('seed002-yolov5s-ghost');
    expect(run.settings.model).toMatchObject({ model: 'yolov5-ghost', backbone: 'yolov5_ghost', head: 'yolov5' });
    expect(run.settings.optimizer).toMatchObject({ name: 'SGD', lr0: 0.01, momentum: 0.937 });
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);

  it('groups the runs of a sweep by config with their spread, and exports the table', async () => {
    // Two seeds of one config, as `starling sweep` trains them (each run carries its cell).
    for (const seed of [0, 1]) {
      const { jobId } = await call(session, 'train.start', {
        model: { backbone: 'shufflenetv2_x0_5' },
        data: { imgsz: 64, batch: 3 },
        budget: { epochs: 1 },
        seed,
        name: `grouped seed ${seed}`,
        experiment: { name: 'grouped', key: String(seed).repeat(32) },
      });
      expect((await session.jobs.wait(jobId)).status).toBe('done');
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.openUrl}#/runs`);
    await page.waitForSelector('[data-testid="runs-table"] tbody tr');
    await page.check('[data-testid="leaderboard-group"]');
    const row = page.locator('[data-testid="config-groups"] tr[data-config="grouped"]');
    await expect.poll(() => row.locator('td').nth(1).textContent()).toBe('2');
    // Both runs were evaluated on val as they finished: a mean and a spread.
    expect(await row.locator('[data-col="val-map"]').textContent()).toMatch(/^\d\.\d{3} ± \d\.\d{3}$/);
    expect(await page.isHidden('[data-testid="runs-table"]')).toBe(true);
    await page.screenshot({ path: artifactPath('runs-by-config.png') });
    const [md] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="groups-md"]')]);
    const table = fs.readFileSync((await md.path())!, 'utf8');
    expect(table).toMatch(/^\| config \| runs \| val mAP50-95 \|/);
    expect(table).toMatch(/^\| grouped \| 2 \| \d\.\d{3} ± \d\.\d{3} \|/m);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="groups-csv"]')]);
    expect(fs.readFileSync((await csv.path())!, 'utf8')).toMatch(/^grouped,2,\d/m);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
