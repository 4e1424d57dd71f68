import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { UNCANCELLABLE } from '../util/job-context.js';
import { destinationFolder, pathInfo } from './path-check.js';
import { datasetHealth } from '../store/health.js';
import { groupNearDuplicates, hashAll } from '../vision/near-duplicates.js';
import { runJob } from '../jobs/job-process.js';
import { chooseDevice } from '../runtime/session.js';
import { datasetFromProject } from '../formats/from-project.js';
import type { DatasetImage } from '../formats/dataset.js';
import { formatEntry, parseDataset, writeDataset } from '../formats/index.js';
import { ingestDataset } from '../formats/ingest.js';
import { discardRefused, saveUploads } from '../formats/uploads.js';
import { ProjectStore } from '../store/project.js';
import { mergeRuns } from '../store/merge-runs.js';
import { isImageFile } from '../vision/probe.js';
import { createSampleProject } from '../sample/project.js';
import type { SizeHistogram } from '../sample/size-mix.js';
import { STARLING_VERSION } from '../version.js';
import { detectorCard, zooCards } from '../models/card.js';
import { architectureEntry, architectureNames, buildDetector, headEntries } from '../models/zoo.js';
import { layouts } from '../inference/decode.js';
import { DEFAULT_RUN_SETTINGS, resolveRunSettings } from '../settings/run-settings.js';
import { listPresets } from '../settings/presets.js';
import { trainableHeads } from '../train/objectives/index.js';
import { assertNotTrainedElsewhere } from '../train/run-owner.js';
import { previewStart } from '../train/start-weights.js';
import { prepareTeachers } from '../train/distill/teachers.js';
import { exportModel } from '../export/export-model.js';
import { leaderboard } from '../eval/leaderboard.js';
import { reviewDetections } from '../eval/detection-review.js';
import { pseudoLabelQuality } from '../teachers/quality.js';
import { registerTeacher, updateTeacher } from '../teachers/registry.js';
import { probeTeacher } from '../teachers/teacher.js';
import type { DetectorConfig } from '../models/config.js';
import type { ExportResult, ImportResult, ProjectSummary } from './contract.js';
import type { Handlers } from './dispatch.js';
import type { Session } from './session.js';

/** The job that adds image files (unlabeled) to a split; the job id. */
function startAddImages(
  s: Session,
  files: string[],
  split: 'train' | 'val' | 'test',
  after?: (r: ImportResult) => void,
): string {
  const store = s.requireProject();
  return s.jobs.start('images.add', `Add ${files.length} images`, async (ctx): Promise<ImportResult> => {
    const images: DatasetImage[] = files.map((file) => ({ file, split, labeled: false, boxes: [] }));
    // Adding a folder keeps the good images and reports unreadable ones: nothing is half-written.
    const r = await ingestDataset(store, { classes: [], images }, [], { skipBad: true, existing: 'skip' }, ctx);
    changed(s, 'images');
    const result = { images: r.images, boxes: 0, classesCreated: [], skipped: r.skipped };
    after?.(result);
    return result;
  }).id;
}

export function summarize(store: ProjectStore, o: { perSplitClass?: boolean } = {}): ProjectSummary {
  const settings = store.settings();
  return {
    file: store.file,
    root: store.root,
    name: settings.name,
    classes: store.classes.list(),
    counts: store.counts(o),
    settings,
  };
}

/**
 * Every image file under the given files/folders, sorted, skipping hidden folders and caches. A folder reached
 * twice through links (a link loop) is walked once; what is not a regular file is refused when probed.
 */
function collectImageFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walked = new Set<string>();
  const walk = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) throw new StarlingError('NOT_FOUND', `${p}: no such file or folder`);
    if (st.isDirectory()) {
      const real = fs.realpathSync(p);
      if (walked.has(real)) return;
      walked.add(real);
      for (const name of fs.readdirSync(p).sort()) {
        if (name.startsWith('.')) continue;
        walk(path.join(p, name));
      }
    } else if (isImageFile(p)) {
      out.push(path.resolve(p));
    }
  };
  paths.forEach(walk);
  return out;
}

const changed = (s: Session, what: 'images' | 'annotations' | 'classes', imageIds?: number[]): void =>
  s.emit('project.changed', imageIds ? { what, imageIds } : { what });

export const handlers: Handlers = {
  'app.info': () => ({
    name: 'Starling',
    version: STARLING_VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  }),

  // ---- projects ---------------------------------------------------------------------------------
  'project.create': (s, { path: p, name }) => summarize(s.create(p, name)),
  'project.open': (s, { path: p }) => summarize(s.open(p)),
  'project.close': (s) => ({ closed: s.close() }),
  'project.current': (s, { perSplitClass }) => (s.current ? summarize(s.current, { perSplitClass }) : null),
  'project.recent': (s) => s.recent(),
  'project.setSetting': (s, { key, value }) => {
    const store = s.requireProject();
    store.setSetting(key, value);
    s.emit('project.changed', { what: 'settings' });
    return store.settings();
  },

  // ---- classes ----------------------------------------------------------------------------------
  'classes.list': (s) => s.requireProject().classes.list(),
  'classes.create': (s, { name, color }) => {
    const c = s.requireProject().classes.create(name, color);
    changed(s, 'classes');
    return c;
  },
  'classes.update': (s, { id, ...patch }) => {
    const c = s.requireProject().classes.update(id, patch);
    changed(s, 'classes');
    return c;
  },
  'classes.reorder': (s, { ids }) => {
    const list = s.requireProject().classes.reorder(ids);
    changed(s, 'classes');
    return list;
  },
  'classes.delete': (s, { id, reassignTo }) => {
    s.requireProject().classes.delete(id, reassignTo);
    changed(s, 'classes');
    return { deleted: id };
  },
  'classes.usage': (s, { id }) => s.requireProject().classes.usage(id),
  'classes.deleteWithBoxes': (s, { id }) => {
    const r = s.requireProject().classes.removeWithBoxes(id);
    changed(s, 'classes');
    return r;
  },
  'classes.merge': (s, { from, into }) => {
    const r = s.requireProject().classes.merge(from, into);
    changed(s, 'classes');
    return r;
  },
  'classes.undo': (s) => {
    const r = s.requireProject().classes.undoLastOp();
    if (r) changed(s, 'classes');
    return r;
  },

  // ---- images -----------------------------------------------------------------------------------
  'images.list': (s, { filter, offset, limit, withBoxes }) => {
    const store = s.requireProject();
    const items = store.images.list(filter, offset, limit);
    return { total: store.images.count(filter), items: withBoxes ? store.images.withBoxes(items) : items };
  },
  'images.count': (s, { filter }) => ({ total: s.requireProject().images.count(filter) }),
  'images.facets': (s, { filter }) => s.requireProject().images.facets(filter),
  'images.get': (s, { id }) => {
    const store = s.requireProject();
    return {
      image: store.images.get(id),
      annotations: store.annotations.forImage(id),
      ...store.annotations.historyState(id),
    };
  },
  'images.neighbors': (s, { id, filter, wrap }) => {
    const store = s.requireProject();
    return {
      index: store.images.indexOf(id, filter),
      total: store.images.count(filter),
      ...store.images.around(id, filter, wrap),
    };
  },
  'images.add': (s, { paths, split }) => {
    const files = collectImageFiles(paths);
    if (!files.length) throw new StarlingError('NOT_FOUND', `no image files under ${paths.join(', ')}`);
    return { jobId: startAddImages(s, files, split) };
  },
  'images.upload': (s, { files, split }) => {
    const saved = saveUploads(s.requireProject().root, files);
    const jobId = startAddImages(s, saved.files, split, (r) =>
      discardRefused(
        saved.written,
        r.skipped.filter((x) => x.scope === 'image').map((x) => x.file),
      ),
    );
    return { jobId, saved: saved.files };
  },
  'images.setSplit': (s, { ids, split }) => {
    s.requireProject().images.setSplit(ids, split);
    changed(s, 'images', ids);
    return { updated: ids.length };
  },
  'images.ids': (s, { filter }) => s.requireProject().images.ids(filter),
  'images.delete': (s, { ids }) => {
    const r = s.requireProject().images.deleteToTrash(ids);
    changed(s, 'images', ids);
    return r;
  },
  'images.markNegative': (s, { ids }) => {
    const r = s.requireProject().images.markNegative(ids);
    changed(s, 'images', ids);
    return r;
  },
  'images.undoDelete': (s) => {
    const r = s.requireProject().images.undoDelete();
    if (r) changed(s, 'images');
    return r;
  },
  'images.markDone': (s, { ids, done }) => {
    const r = s.requireProject().images.markDone(ids, done);
    changed(s, 'annotations', ids);
    return r;
  },
  'images.setStatus': (s, { ids, status }) => {
    s.requireProject().images.setStatus(ids, status);
    changed(s, 'images', ids);
    return { updated: ids.length };
  },

  // ---- annotations ------------------------------------------------------------------------------
  'annotations.edit': (s, { imageId, ops, label }) => {
    const r = s.requireProject().annotations.edit(imageId, ops, label);
    changed(s, 'annotations', [imageId]);
    return r;
  },
  'annotations.undo': (s, { imageId }) => {
    const r = s.requireProject().annotations.undo(imageId);
    if (r.changed) changed(s, 'annotations', [imageId]);
    return r;
  },
  'annotations.redo': (s, { imageId }) => {
    const r = s.requireProject().annotations.redo(imageId);
    if (r.changed) changed(s, 'annotations', [imageId]);
    return r;
  },

  // ---- datasets ---------------------------------------------------------------------------------
  'dataset.import': (s, { format, input, imagesRoot, split, skipBad, existing }) => {
    const store = s.requireProject();
    const source = path.resolve(input);
    if (!fs.existsSync(source)) throw new StarlingError('NOT_FOUND', `${source}: no such file or folder`);
    const job = s.jobs.start(
      'dataset.import',
      `Import ${format.toUpperCase()} from ${source}`,
      async (ctx): Promise<ImportResult> => {
        const parsed = await parseDataset(format, source, {
          ...(imagesRoot ? { imagesRoot: path.resolve(imagesRoot) } : {}),
          ...(split ? { split } : {}),
        });
        const r = await ingestDataset(store, parsed.dataset, parsed.errors, { skipBad, existing }, ctx);
        changed(s, 'images');
        return { images: r.images, boxes: r.boxes, classesCreated: r.classesCreated, skipped: r.skipped };
      },
    );
    return { jobId: job.id };
  },
  'dataset.health': (s) => datasetHealth(s.requireProject().db),
  'dataset.nearDuplicates': (s) => {
    const store = s.requireProject();
    const job = s.jobs.start('near-duplicates', 'Find near-duplicate images', async (ctx) => {
      const images = store.images.list({}, 0, 1e9).map((im) => ({ id: im.id, path: im.path, split: im.split }));
      const hashed = await hashAll(images, (im) => store.absolutePath(im.path), {
        onProgress: (done, total) => ctx.progress(done, total, 'hashing images'),
        signal: ctx.signal,
      });
      ctx.throwIfCancelled();
      const groups = groupNearDuplicates(hashed);
      groups.sort((a, b) => b.items.length - a.items.length);
      return { images: hashed.length, groups: groups.slice(0, 200), total: groups.length };
    });
    return { jobId: job.id };
  },
  'dataset.export': (s, { format, outDir, images, unlabeled, createDirs }) => {
    const store = s.requireProject();
    if (unlabeled === 'pool' && !formatEntry(format).pools)
      throw new StarlingError(
        'INVALID_INPUT',
        `${format} cannot hold images that are not labeled yet (it would read them as images with nothing on them); export yolo to keep them apart, or leave them out`,
      );
    const out = destinationFolder(outDir, createDirs);
    const job = s.jobs.start(
      'dataset.export',
      `Export ${format.toUpperCase()} to ${out}`,
      async (ctx): Promise<ExportResult> => {
        ctx.progress(0, 1, 'collecting labels');
        const ds = datasetFromProject(store);
        const files = await writeDataset(format, ds, out, { images, imagesRoot: store.root, unlabeled });
        ctx.progress(1, 1);
        const labeled = ds.images.filter((im) => im.labeled);
        return {
          files: files.length,
          outDir: out,
          images: labeled.length,
          boxes: labeled.reduce((n, im) => n + im.boxes.length, 0),
          notLabeled: { unlabeled: ds.unlabeled, underReview: ds.underReview, pooled: unlabeled === 'pool' },
        };
      },
    );
    return { jobId: job.id };
  },

  'sample.create': (s, { dir, seed, counts, open, sizes }) => {
    const job = s.jobs.start('sample.create', `Generate the sample project in ${path.resolve(dir)}`, async (ctx) => {
      const store = await createSampleProject(dir, { seed, sizes, ...(counts ? { counts } : {}) }, ctx);
      const histogram = (store.settings().sample as { sizeHistogram: SizeHistogram }).sizeHistogram;
      if (open) s.adopt(store);
      else store.close();
      return { file: store.file, sizes: histogram };
    });
    return { jobId: job.id };
  },

  // ---- model zoo --------------------------------------------------------------------------------
  'zoo.list': (_s, { imgsz, kind }) => zooCards(imgsz, kind),
  'zoo.heads': () =>
    headEntries().map((h) => ({
      name: h.name,
      description: h.description,
      styles: h.styles.map((s) => ({ ...s })),
      trainable: trainableHeads().includes(h.name),
    })),
  'presets.list': () => listPresets(),
  'zoo.architectures': () =>
    architectureNames().map((name) => {
      const a = architectureEntry(name);
      return { name, description: a.description, scales: Object.keys(a.scales) };
    }),
  'zoo.describe': (_s, { config, imgsz, freeze }) => {
    try {
      return detectorCard(config as Partial<DetectorConfig>, imgsz, freeze);
    } catch (e) {
      throw new StarlingError('INVALID_INPUT', (e as Error).message);
    }
  },

  'files.stat': (_s, { path: p }) => pathInfo(p),
  'models.export': async (s, { createDirs, imgsz, ...i }) => {
    destinationFolder(path.dirname(path.resolve(i.out)), createDirs);
    if (i.run !== undefined) {
      // A run exports its best checkpoint (EMA weights) with its own config and the project's class names.
      const store = s.requireProject();
      const run = store.runs.get(i.run);
      const config = run.settings.model;
      const best = run.artifacts.best;
      if (!best || !fs.existsSync(best))
        throw new StarlingError('NOT_FOUND', `run ${i.run} has no best checkpoint yet`);
      const req = {
        ...i,
        config,
        weights: best,
        // A run exports at the size it trained at unless asked otherwise.
        imgsz: imgsz ?? run.settings.data.imgsz,
        names: i.names ?? store.classes.list().map((c) => c.name),
      };
      // Building, writing and timing the model takes seconds: in the job worker, so the API keeps answering.
      return runJob(store, { kind: 'export', req }, UNCANCELLABLE);
    }
    return exportModel({ ...i, imgsz: imgsz ?? 640, config: i.config ?? {} });
  },

  // ---- teachers, pseudo-labels and review --------------------------------------------------------
  'teachers.list': (s) => s.requireProject().teachers.list(),
  'teachers.families': () => layouts(),
  'teachers.probe': async (_s, { path: file, family, imgsz, names }) =>
    probeTeacher(path.resolve(file), {
      ...(family ? { family } : {}),
      ...(imgsz ? { imgsz } : {}),
      ...(names?.length ? { names } : {}),
    }).catch((e: unknown) => {
      throw new StarlingError('INVALID_INPUT', (e as Error).message);
    }),
  'teachers.add': (s, req) => registerTeacher(s.requireProject(), req),
  'teachers.update': (s, { id, ...patch }) => updateTeacher(s.requireProject(), id, patch),
  'teachers.remove': (s, { id }) => {
    const store = s.requireProject();
    store.teachers.get(id);
    store.teachers.remove(id);
    return { removed: id };
  },
  'pseudo.start': (s, req) => {
    const store = s.requireProject();
    for (const t of req.teachers) store.teachers.get(t); // NOT_FOUND before the job starts
    const job = s.jobs.start('pseudo-label', `Pseudo-label with ${req.teachers.length} teacher(s)`, (ctx) =>
      runJob(store, { kind: 'pseudo-label', req }, ctx).finally(() => changed(s, 'annotations')),
    );
    return { jobId: job.id };
  },
  'review.set': (s, { state, dryRun, done, ...filter }) => {
    const store = s.requireProject();
    if (dryRun) return { changed: state === 'pending' ? 0 : store.pseudoLabels.countPending(filter), doneImages: 0 };
    const r =
      state === 'pending'
        ? { changed: store.pseudoLabels.reopen(filter), doneImages: 0 }
        : store.pseudoLabels.review(filter, state, { done });
    if (r.changed) changed(s, 'annotations');
    if (r.doneImages) changed(s, 'images');
    return r;
  },
  'review.counts': (s) => s.requireProject().pseudoLabels.counts(),
  'review.progress': (s, { minScore }) => {
    const store = s.requireProject();
    return {
      images: store.images.count({ pendingMinScore: minScore }),
      boxes: store.pseudoLabels.countPending({ minScore }),
    };
  },
  'review.quality': (s) => pseudoLabelQuality(s.requireProject()),
  'runs.list': (s) => s.requireProject().runs.list(),
  'runs.describe': (s, { id, ...patch }) => {
    const r = s.requireProject().runs.describe(id, patch);
    return r;
  },
  'runs.delete': (s, { id }) => {
    const store = s.requireProject();
    const run = store.runs.get(id);
    const dir = run.artifacts.dir ? path.resolve(run.artifacts.dir) : null;
    const runsRoot = path.join(store.root, 'runs') + path.sep;
    const inside = dir !== null && dir.startsWith(runsRoot);
    if (inside) {
      const user = store.teachers
        .list()
        .find((t) => path.resolve(store.absolutePath(t.path)).startsWith(dir + path.sep));
      if (user)
        throw new StarlingError(
          'CONFLICT',
          `run ${id}: the teacher "${user.name}" is a file of this run; remove the teacher first`,
        );
    }
    store.runs.delete(id);
    if (inside) fs.rmSync(dir, { recursive: true, force: true });
    return { deleted: id, removedDir: inside ? dir : null };
  },
  'runs.merge': (s, { from }) => {
    const target = s.requireProject();
    const file = path.resolve(from);
    if (!fs.existsSync(file)) throw new StarlingError('NOT_FOUND', `${from}: no such project`);
    const source = ProjectStore.open(file);
    try {
      return mergeRuns(target, source);
    } finally {
      source.close();
    }
  },
  'runtime.devices': () => {
    const d = chooseDevice('auto');
    return { available: d.available, auto: d.used };
  },
  'runs.epochs': (s, { id }) => s.requireProject().runs.epochs(id),
  // An evaluation runs onnxruntime over the whole split: in a worker, like the jobs, so the API keeps answering.
  'runs.evaluate': (s, { id, split }) => {
    const concurrentJobs = s.jobs
      .list()
      .filter((j) => j.status === 'running')
      .map((j) => j.label);
    return runJob(s.requireProject(), { kind: 'evaluate', req: { runId: id, split, concurrentJobs } }, UNCANCELLABLE);
  },
  'runs.leaderboard': (s, { split }) => leaderboard(s.requireProject(), split),
  'runs.review': (s, { id, split, conf }) => reviewDetections(s.requireProject(), id, split, conf),
  'runs.predictions': (s, { id, imageId }) => s.requireProject().runs.predictions(id, imageId),
  'weights.inspect': (s, { from, model }) => {
    const store = s.requireProject();
    const settings = resolveRunSettings({ model: { ...model, nc: store.classes.list().length }, weights: { from } });
    return previewStart(store, settings, from, model);
  },
  'distill.inspect': (s, { teachers, model, imgsz, cache }) => {
    const store = s.requireProject();
    const settings = resolveRunSettings({
      model: { ...model, nc: store.classes.list().length },
      data: { imgsz },
      distill: { teachers, cache },
    });
    const names = store.classes.list().map((c) => c.name);
    return prepareTeachers(store, settings, buildDetector(settings.model), false).map((t) => ({
      spec: t.spec,
      name: t.name,
      family: t.probe.family,
      mode: t.mode,
      classes: t.owned.map((c) => names[c]!),
      imgsz: t.probe.imgsz,
    }));
  },
  'train.start': (s, req) => {
    const store = s.requireProject();
    // Refused before a job starts: resuming a run another live process trains.
    if (req.resume !== undefined) assertNotTrainedElsewhere(store.runs.get(req.resume));
    const label =
      req.resume !== undefined
        ? `Resume run ${req.resume}`
        : `Train ${req.model.backbone ?? DEFAULT_RUN_SETTINGS.model.backbone}${req.weights?.from ? ` from ${path.basename(req.weights.from)}` : ''}`;
    const job = s.jobs.start('train', label, (ctx) => runJob(store, { kind: 'train', req }, ctx));
    return { jobId: job.id };
  },

  // ---- jobs -------------------------------------------------------------------------------------
  'jobs.list': (s) => s.jobs.list(),
  'jobs.get': (s, { id }) => s.jobs.get(id),
  'jobs.cancel': (s, { id }) => s.jobs.cancel(id),
};
