import { StarlingError } from '../errors.js';
import type { JobContext } from '../util/job-context.js';
import { mapLimit } from '../util/map-limit.js';
import type { NewAnnotation } from '../store/annotations.js';
import type { NewImage } from '../store/images.js';
import type { ProjectStore } from '../store/project.js';
import { probeImage } from '../vision/probe.js';
import { formatItemError, type Dataset, type ItemError } from './dataset.js';

export interface IngestOptions {
  /** Import what is valid and report the rest, instead of importing nothing. */
  skipBad: boolean;
  /** What to do with an image already in the project. */
  existing: 'error' | 'skip';
  /** Status for labeled images (imports of human labels are 'labeled'). */
  labeledStatus?: 'labeled' | 'reviewed';
}

export interface IngestResult {
  images: number;
  boxes: number;
  classesCreated: string[];
  /** Problems that were skipped (only with skipBad). */
  skipped: ItemError[];
  imageIds: number[];
}

/** Boxes may overhang the image by this many pixels (annotation tools round); they are clipped. */
const BOUNDS_TOLERANCE_PX = 1;
const PROBE_CONCURRENCY = 8;

/**
 * Validates a parsed dataset against the real image files and writes it into the project in one
 * transaction. Any problem (from parsing or from here) aborts the whole import unless `skipBad`,
 * in which case the bad images/boxes are left out and reported.
 */
export async function ingestDataset(
  store: ProjectStore,
  ds: Dataset,
  parseErrors: readonly ItemError[],
  opts: IngestOptions,
  job?: JobContext,
): Promise<IngestResult> {
  const errors: ItemError[] = [...parseErrors];
  const fatal = errors.filter((e) => e.scope === 'file');
  if (fatal.length) throw importFailed(opts.skipBad ? fatal : errors, 'cannot be read', opts.skipBad);

  const known = store.images.allPaths();
  const seen = new Set<string>();
  const total = ds.images.length;
  let probed = 0;
  const probes = await mapLimit(
    ds.images,
    PROBE_CONCURRENCY,
    async (im) => {
      try {
        return await probeImage(im.file);
      } catch (e) {
        errors.push({ file: im.file, problem: (e as Error).message, scope: 'image' });
        return null;
      } finally {
        job?.progress(++probed, total, 'checking images');
      }
    },
    job?.signal,
  );
  job?.throwIfCancelled();

  const newImages: NewImage[] = [];
  const boxesPerImage: Omit<NewAnnotation, 'imageId'>[][] = [];
  ds.images.forEach((im, i) => {
    const probe = probes[i];
    if (!probe) return;
    const stored = store.storedPath(im.file);
    if (seen.has(stored)) {
      errors.push({ file: im.file, problem: 'listed twice in the dataset', scope: 'image' });
      return;
    }
    seen.add(stored);
    if (known.has(stored)) {
      if (opts.existing === 'skip') return;
      errors.push({ file: im.file, problem: 'already in the project', scope: 'image' });
      return;
    }
    if (
      (im.width !== undefined && im.width !== probe.width) ||
      (im.height !== undefined && im.height !== probe.height)
    ) {
      errors.push({
        file: im.file,
        problem: `label file says ${im.width}x${im.height} but the image is ${probe.width}x${probe.height}`,
        scope: 'image',
      });
      return;
    }
    let boxes: Omit<NewAnnotation, 'imageId'>[] = [];
    const errorsBefore = errors.length;
    im.boxes.forEach((b, j) => {
      const sx = im.normalized ? probe.width : 1;
      const sy = im.normalized ? probe.height : 1;
      let x = b.x * sx;
      let y = b.y * sy;
      let w = b.w * sx;
      let h = b.h * sy;
      const where = `box ${j + 1}`;
      if (b.classIndex < 0 || b.classIndex >= ds.classes.length || !Number.isInteger(b.classIndex)) {
        errors.push({ file: im.file, item: where, problem: `unknown class index ${b.classIndex}`, scope: 'box' });
        return;
      }
      if (![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0) {
        errors.push({ file: im.file, item: where, problem: `box has no area (${w}x${h})`, scope: 'box' });
        return;
      }
      const tol = BOUNDS_TOLERANCE_PX;
      if (x < -tol || y < -tol || x + w > probe.width + tol || y + h > probe.height + tol) {
        errors.push({
          file: im.file,
          item: where,
          problem: `box [${x}, ${y}, ${w}, ${h}] lies outside the ${probe.width}x${probe.height} image`,
          scope: 'box',
        });
        return;
      }
      // Clip the tolerated overhang so stored boxes always lie inside the image.
      if (x < 0 || y < 0 || x + w > probe.width || y + h > probe.height) {
        const x2 = Math.min(x + w, probe.width);
        const y2 = Math.min(y + h, probe.height);
        x = Math.max(0, x);
        y = Math.max(0, y);
        w = x2 - x;
        h = y2 - y;
      }
      boxes.push({ classId: b.classIndex, x, y, w, h, source: 'manual', review: 'accepted' });
    });
    // An image that lost a box has incomplete labels: imported as labeled, its missing object would be learned
    // as background. It comes in unlabeled, without boxes, and the report says so.
    const dropped = errors.length - errorsBefore + (im.droppedBoxes ?? 0);
    let labeled = im.labeled;
    if (dropped && labeled && opts.skipBad) {
      const total = im.boxes.length + (im.droppedBoxes ?? 0);
      errors.push({
        file: im.file,
        problem: `imported unlabeled, without its boxes: ${dropped} of its ${total} boxes ${dropped === 1 ? 'is' : 'are'} bad, so its labels are incomplete`,
        scope: 'image',
      });
      boxes = [];
      labeled = false;
    }
    newImages.push({
      path: stored,
      hash: probe.hash,
      width: probe.width,
      height: probe.height,
      split: im.split,
      status: labeled ? (opts.labeledStatus ?? 'labeled') : 'unlabeled',
    });
    boxesPerImage.push(boxes);
  });

  if (errors.length && !opts.skipBad) throw importFailed(errors, 'has problems', false);
  job?.throwIfCancelled();

  // One transaction: classes, images and boxes land together or not at all.
  return store.transaction(() => {
    const before = new Set(store.classes.list().map((c) => c.name));
    // Every dataset class is created (even unused ones) so class lists and order round-trip.
    const classIds = ds.classes.map((name) => store.classes.ensure(name).id);
    const imageIds = store.images.addMany(newImages);
    const anns: NewAnnotation[] = [];
    boxesPerImage.forEach((boxes, i) => {
      for (const b of boxes) anns.push({ ...b, imageId: imageIds[i]!, classId: classIds[b.classId]! });
    });
    store.annotations.addMany(anns);
    return {
      images: imageIds.length,
      boxes: anns.length,
      classesCreated: ds.classes.filter((n) => !before.has(n)),
      skipped: errors,
      imageIds,
    };
  });
}

function importFailed(errors: readonly ItemError[], what: string, skippingAlready: boolean): StarlingError {
  const shown = errors.slice(0, 20).map(formatItemError);
  const more = errors.length > shown.length ? `\n... and ${errors.length - shown.length} more` : '';
  // With --skip-bad given, what is left are whole files that cannot be read: skipping cannot help.
  const hint = skippingAlready
    ? 'a whole label file cannot be read, which --skip-bad cannot skip'
    : 'use --skip-bad to import the rest';
  return new StarlingError(
    'FORMAT',
    `the dataset ${what}: ${errors.length} problem${errors.length === 1 ? '' : 's'}; nothing was imported ` +
      `(${hint})\n${shown.join('\n')}${more}`,
    errors,
  );
}
