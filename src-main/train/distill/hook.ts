/**
 * Distillation as a trainer hook. Before a batch's feeds are made, the live teachers run on it (the same augmented
 * images the student sees); box-level teachers' boxes are added to the targets of images without labels, their
 * score as the box's loss weight; then the step gets the class mask (a class is supervised on an image when the
 * image is labeled or a teacher teaches the class there) and each dense teacher's outputs as graph inputs.
 */
import type { Outputs } from '../../inference/decode.js';
import type { Feed } from '../../runtime/session.js';
import type { TrainerHook } from '../hooks/hook.js';
import type { Batch } from '../loader.js';
import type { Trainer } from '../trainer.js';
import type { Distiller, DistillGraphSpec } from './distiller.js';
import { TeacherRunner } from './runner.js';
import type { DistillTeacher } from './teachers.js';

/** The graph inputs a run's teachers need. */
export function distillGraphSpec(
  teachers: readonly DistillTeacher[],
  o: { weight: number; unlabeledImages: boolean },
): DistillGraphSpec {
  return {
    weight: o.weight,
    classMask: o.unlabeledImages,
    dense: teachers.filter((t) => t.mode === 'dense').map((t) => ({ owned: t.owned, dfl: t.dfl })),
  };
}

export class DistillHook implements TrainerHook {
  private runner!: TeacherRunner;
  private dense: Outputs[] = [];
  private readonly denseTeachers: DistillTeacher[];
  private readonly boxTeachers: DistillTeacher[];
  /** Classes taught by box-level (live or cached) teachers: supervised by the label loss on unlabeled images. */
  private readonly boxOwned: Set<number>;

  constructor(
    private readonly teachers: readonly DistillTeacher[],
    private readonly spec: DistillGraphSpec,
    private readonly o: { nc: number; conf: number; distiller: Distiller | null },
  ) {
    this.denseTeachers = teachers.filter((t) => t.mode === 'dense');
    this.boxTeachers = teachers.filter((t) => t.mode === 'boxes');
    this.boxOwned = new Set(teachers.filter((t) => t.mode !== 'dense').flatMap((t) => t.owned));
    if (this.denseTeachers.length && !o.distiller)
      throw new Error('dense distillation needs a distiller for the head (train/distill/)');
  }

  beforeTrain(t: Pick<Trainer, 'runner' | 'settings'>): void {
    this.runner = new TeacherRunner(t.runner, t.settings.data.imgsz);
  }

  async beforeFeeds(_t: Trainer, batch: Batch): Promise<void> {
    const n = batch.files.length;
    const size = batch.size;
    this.dense = [];
    for (const t of this.denseTeachers) this.dense.push(await this.runner.outputs(t, batch.images, n));
    if (this.boxTeachers.length && batch.labeled.some((l) => !l)) {
      const extra: number[][][] = Array.from({ length: n }, () => []);
      for (const t of this.boxTeachers) {
        const outs = await this.runner.outputs(t, batch.images, n);
        for (let b = 0; b < n; b++) {
          if (batch.labeled[b]) continue; // labels are complete there
          for (const d of this.runner.boxes(t, outs, b, this.o.conf)) {
            // Clipped to the input, kept when 2 px and a tenth of the box remain, as labels are (mapBoxes).
            const [x, y, w, h] = d.box;
            const x1 = Math.max(0, x);
            const y1 = Math.max(0, y);
            const x2 = Math.min(size, x + w);
            const y2 = Math.min(size, y + h);
            if (x2 - x1 < 2 || y2 - y1 < 2 || ((x2 - x1) * (y2 - y1)) / Math.max(1e-9, w * h) < 0.1) continue;
            extra[b]!.push([d.classId, x1, y1, x2, y2, d.score]);
          }
        }
      }
      addTargets(batch, extra);
    }
  }

  beforeStep(_t: Trainer, batch: Batch, feeds: Record<string, Feed>): void {
    const n = batch.files.length;
    const nc = this.o.nc;
    if (this.spec.classMask) {
      // Classes a dense teacher teaches are its distillation terms' on unlabeled images, not the label loss's.
      const mask = new Float32Array(n * nc);
      for (let b = 0; b < n; b++)
        for (let c = 0; c < nc; c++) mask[b * nc + c] = batch.labeled[b] || this.boxOwned.has(c) ? 1 : 0;
      feeds.class_mask = { dtype: 'float32', shape: this.o.distiller!.classMaskShape(n, nc), data: mask };
    }
    this.denseTeachers.forEach((t, i) =>
      Object.assign(
        feeds,
        this.o.distiller!.denseFeeds(i, this.dense[i]!, n, { nc, toStudent: t.toStudent, owned: t.owned, dfl: t.dfl }),
      ),
    );
  }
}

/** Appends rows [cls, x1, y1, x2, y2, weight] per image to a batch's padded targets. */
export function addTargets(batch: Batch, extra: number[][][]): void {
  const n = batch.files.length;
  const most = Math.max(0, ...extra.map((e) => e.length));
  if (!most) return;
  const old = batch.maxBoxes;
  const rowsOf = (b: number) => {
    let k = 0;
    while (k < old && batch.targets[(b * old + k) * 6 + 5]! > 0) k++;
    return k;
  };
  const max = Math.max(...Array.from({ length: n }, (_, b) => rowsOf(b) + extra[b]!.length), 1);
  const targets = new Float32Array(n * max * 6);
  for (let b = 0; b < n; b++) {
    const have = rowsOf(b);
    targets.set(batch.targets.subarray(b * old * 6, (b * old + have) * 6), b * max * 6);
    extra[b]!.forEach((row, j) => targets.set(row, (b * max + have + j) * 6));
  }
  batch.targets = targets;
  batch.maxBoxes = max;
}
