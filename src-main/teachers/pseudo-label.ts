/**
 * The pseudo-label job: registered teachers label a project's images as `pending` boxes with source and score.
 * A pipeline: the next chunk's images are decoded and letterboxed (sharp's thread pool) while the current chunk
 * runs through the teachers (batched when a teacher's batch is dynamic); then boxes are mapped back to image
 * pixels, teacher classes onto project classes, views and teachers fused (WBF or NMS), and each chunk is written
 * in one transaction. The job is keyed by its settings: after a kill, the same request skips finished images,
 * and rewriting an image replaces its pending teacher boxes, so nothing is duplicated. Manual, accepted and
 * rejected boxes are never touched.
 */
import { classMapping } from '../inference/class-map.js';
import crypto from 'node:crypto';
import type { ItemError } from '../formats/dataset.js';
import type { JobContext } from '../util/job-context.js';
import type { ProjectStore } from '../store/project.js';
import type { PseudoBox } from '../store/pseudo-labels.js';
import type { ImageRecord, TeacherRecord } from '../store/types.js';
import { keepPlausible, type DroppedDetections } from '../inference/boxes.js';
import { decodeImage, DecodeError, unletterbox } from '../inference/letterbox.js';
import { letterboxOnnx } from '../inference/preprocess.js';
import { Runner } from '../runtime/session.js';
import { fuse, type DetectionSet, type FuseMethod } from './fuse.js';
import type { TeacherConfig } from '../settings/teacher-config.js';
import { TeacherSession } from './teacher.js';

export interface PseudoLabelRequest {
  /** Registered teacher ids. */
  teachers: number[];
  conf: number;
  iou: number;
  fuse: FuseMethod;
  only: 'unlabeled' | 'all';
  /** Only these images (a gallery selection, the annotator's image), `only` still applying. */
  imageIds?: number[];
  /** Forces test-time flip for every teacher (otherwise each teacher's own setting). */
  tta?: boolean;
  /** Images per inference batch. */
  batch?: number;
  maxDet?: number;
}

export interface PseudoLabelResult {
  jobKey: string;
  images: number;
  /** Images finished by an earlier, interrupted run of the same job. */
  resumed: number;
  boxes: number;
  skipped: ItemError[];
  /** Teacher detections left out as impossible. */
  dropped: DroppedDetections;
  seconds: number;
  imagesPerSecond: number;
}

interface Prepared {
  teacher: TeacherRecord;
  config: TeacherConfig;
  /** Teacher class index -> project class id, or null (ignored). */
  toProject: (number | null)[];
}

export function jobKey(req: PseudoLabelRequest, teachers: Prepared[]): string {
  const spec = {
    teachers: teachers.map((t) => ({
      id: t.teacher.id,
      file: t.config.file,
      family: t.config.family,
      map: t.toProject,
      weight: t.config.weight,
      tta: req.tta ?? t.config.tta,
    })),
    conf: req.conf,
    iou: req.iou,
    fuse: req.fuse,
    only: req.only,
    maxDet: req.maxDet ?? 300,
    ...(req.imageIds ? { images: [...req.imageIds].sort((a, b) => a - b) } : {}),
  };
  return crypto.createHash('sha1').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export async function runPseudoLabel(
  store: ProjectStore,
  req: PseudoLabelRequest,
  ctx: JobContext,
): Promise<PseudoLabelResult> {
  if (!req.teachers.length) throw new Error('no teachers given');
  const classes = store.classes.list();
  const prepared: Prepared[] = req.teachers.map((id) => {
    const teacher = store.teachers.get(id);
    const config = teacher.config;
    return { teacher, config, toProject: classMapping(config.names, config.classMap, classes) };
  });
  for (const p of prepared) {
    if (p.toProject.every((c) => c === null))
      throw new Error(
        `teacher ${p.teacher.name}: none of its classes (${p.config.names.slice(0, 8).join(', ')}) maps onto a project class; give a class map`,
      );
  }
  const key = jobKey(req, prepared);
  const done = store.pseudoLabels.done(key);
  const filter = req.only === 'unlabeled' ? { status: 'unlabeled' as const } : {};
  const chosen = req.imageIds ? new Set(req.imageIds) : null;
  const all = store.images.list(filter, 0, 1e9).filter((im) => !chosen || chosen.has(im.id));
  const todo = all.filter((im) => !done.has(im.id));
  const resumed = all.length - todo.length;
  const source = `teacher:${prepared.map((p) => p.teacher.name).join('+')}`;
  const batch = Math.max(1, req.batch ?? 8);
  const maxDet = req.maxDet ?? 300;
  const sizes = [...new Set(prepared.map((p) => p.config.imgsz))];
  const sessions = await Promise.all(prepared.map((p) => TeacherSession.open(p.config)));
  const preprocess = new Runner({ device: 'cpu' });
  const skipped: ItemError[] = [];
  const dropped: DroppedDetections = { unknownClass: 0, badBox: 0 };
  let boxes = 0;
  let processed = 0;
  const started = Date.now();

  /**
   * Letterboxes one image at every teacher input size; a bad image becomes a skipped item. sharp decodes (on its
   * pool), the letterbox runs as an ONNX graph (inference/preprocess.ts) so the JS thread, which inference holds,
   * does no per-pixel work.
   */
  const load = async (im: ImageRecord) => {
    const file = store.absolutePath(im.path);
    try {
      const rgb = await decodeImage(file);
      const done = await Promise.all(sizes.map((s) => letterboxOnnx(preprocess, rgb.data, rgb.width, rgb.height, s)));
      return { im, views: new Map(sizes.map((s, k) => [s, done[k]!])) };
    } catch (e) {
      const problem = e instanceof DecodeError ? e.message : `${file}: ${(e as Error).message}`;
      skipped.push({ file, problem, scope: 'image' });
      return null;
    }
  };
  /** A chunk's images all at once: sharp's pool works on them while inference holds the JS thread. */
  const loadChunk = (ims: ImageRecord[]) => Promise.all(ims.map(load));
  const chunks: ImageRecord[][] = [];
  for (let i = 0; i < todo.length; i += batch) chunks.push(todo.slice(i, i + batch));

  try {
    ctx.progress(0, todo.length, resumed ? `resuming: ${resumed} images already done` : undefined);
    let next = chunks.length ? loadChunk(chunks[0]!) : null;
    for (let c = 0; c < chunks.length; c++) {
      ctx.throwIfCancelled();
      const loaded = (await next!).filter((x): x is NonNullable<typeof x> => x !== null);
      // Prefetch: the next chunk decodes while this one runs through the teachers.
      next = c + 1 < chunks.length ? loadChunk(chunks[c + 1]!) : null;
      const perImage: DetectionSet[][] = loaded.map(() => []);
      for (let t = 0; t < prepared.length; t++) {
        const p = prepared[t]!;
        const s = p.config.imgsz;
        const views = await sessions[t]!.detect(
          loaded.map((l) => l.views.get(s)!.data),
          { conf: req.conf, iou: req.iou, maxDet, flip: req.tta ?? p.config.tta },
        );
        loaded.forEach((l, k) => {
          const lb = l.views.get(s)!;
          for (const dets of views[k]!) {
            // Back to image pixels; impossible boxes (a class id the teacher does not have, nothing left inside
            // the image) are dropped and counted, then teacher classes become project classes.
            const inImage = dets.map((d) => ({ ...d, box: unletterbox(d.box, lb) }));
            const plausible = keepPlausible(
              inImage,
              { classes: p.config.names.length, width: l.im.width, height: l.im.height },
              dropped,
            );
            const mapped = plausible.flatMap((d) => {
              const classId = p.toProject[d.classId] ?? null;
              return classId === null ? [] : [{ classId, score: d.score, box: d.box }];
            });
            perImage[k]!.push({ detections: mapped, weight: p.config.weight });
          }
        });
      }
      const results = loaded.map((l, k) => {
        const fused = fuse(perImage[k]!, { method: req.fuse, iou: req.iou, skipBelow: 0 });
        const out: PseudoBox[] = fused
          .filter((f) => f.score >= req.conf)
          .slice(0, maxDet)
          .map((f) => ({
            classId: f.classId,
            x: f.box[0],
            y: f.box[1],
            w: f.box[2],
            h: f.box[3],
            score: f.score,
            source,
          }));
        return { imageId: l.im.id, boxes: out };
      });
      store.pseudoLabels.writeChunk(key, source, results);
      boxes += results.reduce((a, r) => a + r.boxes.length, 0);
      processed += chunks[c]!.length;
      const rate = (processed * 1000) / Math.max(1, Date.now() - started);
      ctx.progress(processed, todo.length, `${rate.toFixed(1)} images/s, ${boxes} boxes`);
    }
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await preprocess.dispose();
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    jobKey: key,
    images: processed - skipped.length,
    resumed,
    boxes,
    skipped,
    dropped,
    seconds,
    imagesPerSecond: processed / Math.max(1e-3, seconds),
  };
}
