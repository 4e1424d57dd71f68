/**
 * Cached teachers (`distill.cache`): each teacher runs once per not yet labeled training image, on the
 * un-augmented letterboxed image, and its boxes (in image pixels, classes mapped onto the student's, score at
 * least `conf`) are kept in `<project>/cache/teachers/<sha256>-<setup>-<conf>.json` (setup: a hash of the
 * teacher's input size and class mapping, which shape the boxes as much as its file), keyed by image path, size
 * and modification time, so an edited image is computed again. Training then takes them as soft boxes through
 * the augmentation like labels (their score is their loss weight), with no teacher in the step. A changed
 * teacher file is a new sha256, hence a new cache.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { letterbox, unletterbox, type LabeledBox, type Source } from '../../inference/letterbox.js';
import type { Runner } from '../../runtime/session.js';
import type { JobContext } from '../../util/job-context.js';
import { writeFileAtomic } from '../../util/files.js';
import { TeacherRunner } from './runner.js';
import type { DistillTeacher } from './teachers.js';

type CacheFile = Record<string, { boxes: [number, number, number, number, number, number][] }>;

export function cacheFile(root: string, t: DistillTeacher, conf: number): string {
  const setup = crypto
    .createHash('sha256')
    .update(JSON.stringify({ imgsz: t.probe.imgsz, toStudent: t.toStudent }))
    .digest('hex')
    .slice(0, 12);
  return path.join(root, 'cache', 'teachers', `${t.sha256}-${setup}-${conf}.json`);
}

/**
 * Adds each cached teacher's boxes to the unlabeled sources (computing what the cache does not hold yet) and
 * returns how many images were computed now.
 */
export async function applyTeacherCache(
  root: string,
  teachers: readonly DistillTeacher[],
  sources: Source[],
  o: { conf: number; runner: Runner; ctx?: JobContext },
): Promise<number> {
  let computed = 0;
  const unlabeled = sources.filter((s) => s.labeled === false);
  for (const t of teachers.filter((x) => x.mode === 'cached')) {
    const file = cacheFile(root, t, o.conf);
    let cache: CacheFile = {};
    try {
      cache = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheFile;
    } catch {
      cache = {}; // absent or unreadable: computed again
    }
    const runner = new TeacherRunner(o.runner, t.probe.imgsz);
    const size = t.probe.imgsz;
    let i = 0;
    for (const src of unlabeled) {
      i++;
      const stat = fs.statSync(src.file);
      const key = `${path.relative(root, src.file)}:${stat.size}:${Math.round(stat.mtimeMs)}`;
      if (!cache[key]) {
        const lb = await letterbox({ ...src, boxes: [] }, size);
        const outs = await runner.outputs(t, lb.data, 1);
        // Not clipped here: the loader clips them to the network input as it does labels, and as the live hook
        // clips a teacher's boxes on the batch, so a cached teacher and a live one give the same targets.
        const kept = runner
          .boxes(t, outs, 0, o.conf)
          .map((d) => ({ ...d, box: unletterbox(d.box, lb) }))
          .filter((d) => d.box.every(Number.isFinite) && d.box[2] > 0 && d.box[3] > 0);
        cache[key] = {
          boxes: kept.map((d) => [d.classId, ...d.box, d.score] as [number, number, number, number, number, number]),
        };
        computed++;
        if (computed % 50 === 0) writeCache(file, cache);
        o.ctx?.progress(i, unlabeled.length, `teacher ${t.name}: boxes for the cache`);
      }
      const boxes: LabeledBox[] = cache[key]!.boxes.map(([cls, x, y, w, h, score]) => ({
        cls,
        x,
        y,
        w,
        h,
        weight: score,
      }));
      src.boxes = [...src.boxes, ...boxes];
    }
    if (computed) writeCache(file, cache);
  }
  return computed;
}

function writeCache(file: string, cache: CacheFile): void {
  writeFileAtomic(file, (fd) => fs.writeSync(fd, JSON.stringify(cache)));
}
