import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import type { JobContext } from '../util/job-context.js';
import { writeCoco } from '../formats/coco.js';
import { ingestDataset } from '../formats/ingest.js';
import { PROJECT_FILE, ProjectStore } from '../store/project.js';
import { generateSample } from './generate.js';
import { sizeHistogram, type SizeMix } from './size-mix.js';

export interface SampleOptions {
  seed: number;
  sizes?: SizeMix;
  counts?: { train: number; pool: number; val: number; test: number };
}

/** Where the pool's hidden ground truth is kept, relative to the project root. */
export const HIDDEN_GT_DIR = 'hidden';

/**
 * Generates the sample dataset into `dir` and makes it a project: labeled train/val/test images,
 * plus an unlabeled pool whose true boxes are kept aside (hidden/instances_train.json) for measuring
 * pseudo-label quality. The project file is written under a temporary name and renamed into place
 * last, so an interrupted run never leaves a half-made project behind.
 */
export async function createSampleProject(dir: string, opts: SampleOptions, job?: JobContext): Promise<ProjectStore> {
  const root = path.resolve(dir);
  const finalFile = path.join(root, PROJECT_FILE);
  if (fs.existsSync(finalFile)) throw new StarlingError('CONFLICT', `${finalFile}: a project already exists there`);
  const sample = await generateSample(root, {
    seed: opts.seed,
    sizes: opts.sizes ?? 'coco',
    ...(opts.counts ? { counts: opts.counts } : {}),
    onProgress: (done, total) => job?.progress(done, total, 'drawing sample images'),
    ...(job ? { signal: job.signal } : {}),
  });
  job?.throwIfCancelled();
  await writeCoco(sample.pool, path.join(root, HIDDEN_GT_DIR), { imagesRoot: root });

  const partial = path.join(root, 'project.partial.starling');
  const sidecars = (f: string) => [`${f}-wal`, `${f}-shm`];
  for (const f of [partial, ...sidecars(partial)]) fs.rmSync(f, { force: true });
  const store = ProjectStore.create(partial, path.basename(root));
  try {
    await ingestDataset(store, sample.dataset, [], { skipBad: false, existing: 'error' }, job);
    const unlabeledPool = {
      classes: sample.pool.classes,
      images: sample.pool.images.map((im) => ({ ...im, labeled: false, boxes: [] })),
    };
    await ingestDataset(store, unlabeledPool, [], { skipBad: false, existing: 'error' }, job);
    store.setSetting('sample', {
      seed: opts.seed,
      sizes: opts.sizes ?? 'coco',
      sizeHistogram: sizeHistogram([...sample.dataset.images, ...sample.pool.images]),
      hiddenGroundTruth: `${HIDDEN_GT_DIR}/instances_train.json`,
      note: 'The unlabeled pool (split train, status unlabeled) has its true boxes in hiddenGroundTruth.',
    });
    store.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    store.close();
  }
  fs.renameSync(partial, finalFile);
  for (const f of sidecars(partial)) fs.rmSync(f, { force: true });
  return ProjectStore.open(root);
}
