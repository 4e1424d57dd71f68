/**
 * The training data loader: the project's labeled images (accepted boxes; pending pseudo-labels only when
 * asked, with their own loss weight), shuffled per epoch from a seed, augmented on sharp's thread pool, batched
 * into NCHW float32 plus padded targets, with a prefetch queue so the next batches are prepared while the
 * ONNX step runs. Images that cannot be decoded are reported once with their path and skipped.
 */
import type { Split } from '../store/types.js';
import type { ProjectStore } from '../store/project.js';
import { Rng } from '../util/random.js';
import { DecodeError, decodeImage, letterbox, type LabeledBox, type Source } from '../inference/letterbox.js';
import { cachingDecoder, type Decoder } from './image-cache.js';
import { augment, DEFAULT_HYP, type Hyp } from './augment.js';

export interface LoaderOptions {
  imgsz: number;
  batch: number;
  seed: number;
  hyp?: Hyp;
  /** Turn mosaic off for the last epochs (Ultralytics close_mosaic). */
  closeMosaic?: number;
  epochs?: number;
  /** Batches prepared ahead of the one being consumed. */
  prefetch?: number;
  augment?: boolean;
  /** Keep decoded images in memory (train/image-cache.ts; the caller decides, see `cacheDecision`). */
  cache?: boolean;
  onBadImage?: (file: string, problem: string) => void;
}

export interface Batch {
  /** [B, 3, imgsz, imgsz] */
  images: Float32Array;
  /** [B, maxBoxes, 6]: cls, x1, y1, x2, y2 (pixels), weight; rows past a sample's boxes are all zero. */
  targets: Float32Array;
  maxBoxes: number;
  size: number;
  files: string[];
  /** Per image: whether its labels are complete (false: a not yet labeled image, taught by teachers only). */
  labeled: boolean[];
}

/**
 * Training sources from a project: the labeled images of its train split (or the splits asked for) with their
 * accepted (and opted-in pending) boxes. (Validation and evaluation take their truth from eval/ground-truth.ts.)
 */
export function projectSources(
  store: ProjectStore,
  o: {
    includePending?: boolean;
    pendingWeight?: number;
    /**
     * The train split's not yet labeled images, with no boxes (distillation teaches them): `also` adds them to
     * the labeled ones, `only` gives them alone. Default `none`.
     */
    unlabeled?: 'none' | 'also' | 'only';
    /** The splits to take images from (default: train). */
    splits?: readonly Split[];
  } = {},
): { sources: Source[]; classes: string[] } {
  const unlabeled = o.unlabeled ?? 'none';
  const classes = store.classes.list();
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const byImage = new Map<number, LabeledBox[]>();
  // Images with boxes still waiting for review are trained on only with the pending boxes: without them, the
  // objects nobody has reviewed yet would be learned as background. One pass reads both kinds of box.
  const underReview = new Set<number>();
  const hasPending = new Set<number>();
  for (const a of store.annotations.iterate(['accepted', 'pending'])) {
    if (a.review === 'pending') hasPending.add(a.imageId);
    if (a.review === 'pending' && !o.includePending) {
      underReview.add(a.imageId);
      continue;
    }
    const list = byImage.get(a.imageId) ?? [];
    list.push({
      cls: index.get(a.classId)!,
      x: a.x,
      y: a.y,
      w: a.w,
      h: a.h,
      weight: a.review === 'pending' ? (o.pendingWeight ?? 0.5) : 1,
    });
    byImage.set(a.imageId, list);
  }
  const sources: Source[] = [];
  for (const split of o.splits ?? ['train']) {
    const total = store.images.count({ split });
    for (let off = 0; off < total; off += 5000) {
      for (const im of store.images.list({ split }, off, 5000)) {
        const boxes = byImage.get(im.id) ?? [];
        // An image not marked done takes part only through opted-in pseudo-labels: its accepted boxes alone may be
        // a few of its objects (the rest would be learned as background).
        const asLabeled =
          !(im.status === 'unlabeled' && !(o.includePending && hasPending.has(im.id))) && !underReview.has(im.id);
        const file = store.absolutePath(im.path);
        if (asLabeled && unlabeled !== 'only') sources.push({ file, boxes, width: im.width, height: im.height });
        if (!asLabeled && unlabeled !== 'none')
          sources.push({ file, boxes: [], labeled: false, width: im.width, height: im.height });
      }
    }
  }
  return { sources, classes: classes.map((c) => c.name) };
}

export class Loader {
  private readonly bad = new Set<string>();
  private readonly hyp: Hyp;
  private readonly decode: Decoder;
  /** Total epochs, for close-mosaic; the trainer refits it when training runs against a time budget. */
  epochs: number | undefined;

  constructor(
    private readonly sources: readonly Source[],
    private readonly o: LoaderOptions,
  ) {
    if (!sources.length) throw new Error('no labeled images to train on');
    this.hyp = o.hyp ?? DEFAULT_HYP;
    this.epochs = o.epochs;
    this.decode = o.cache ? cachingDecoder(o.imgsz) : decodeImage;
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.sources.length / this.o.batch);
  }

  private cachedOrder: { epoch: number; order: number[] } | null = null;

  /** The epoch's order: a seeded shuffle, the same for the same (seed, epoch). */
  order(epoch: number): number[] {
    if (this.cachedOrder?.epoch === epoch) return this.cachedOrder.order;
    const rng = new Rng('loader-order', this.o.seed, epoch);
    const idx = this.sources.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    this.cachedOrder = { epoch, order: idx };
    return idx;
  }

  private async sample(epoch: number, i: number, src: Source) {
    const size = this.o.imgsz;
    if (this.o.augment === false) return letterbox(src, size);
    const rng = new Rng('loader-sample', this.o.seed, epoch, i);
    const closing =
      this.o.closeMosaic !== undefined && this.epochs !== undefined && epoch >= this.epochs - this.o.closeMosaic;
    // Mosaic partners share the image's labeled state, so a sample is either labeled throughout or not at all.
    const labeled = src.labeled !== false;
    const usable = this.sources.filter((x) => !this.bad.has(x.file) && (x.labeled !== false) === labeled);
    const others = closing || usable.length < 2 ? [] : [0, 1, 2].map(() => usable[rng.int(0, usable.length - 1)]!);
    return augment(src, others, size, rng, closing ? { ...this.hyp, mosaic: 0 } : this.hyp, this.decode);
  }

  /** Builds batch `b` of `epoch`; bad images are skipped (the batch may come out smaller, never empty). */
  async batch(epoch: number, b: number): Promise<Batch | null> {
    const order = this.order(epoch);
    const picks = order.slice(b * this.o.batch, (b + 1) * this.o.batch);
    const results = await Promise.all(
      picks.map(async (i) => {
        const src = this.sources[i]!;
        // A failing mosaic partner is marked bad and the sample is drawn again without it.
        for (let attempt = 0; attempt < 4; attempt++) {
          if (this.bad.has(src.file)) return null;
          try {
            return { file: src.file, labeled: src.labeled !== false, s: await this.sample(epoch, i, src) };
          } catch (e) {
            const file = e instanceof DecodeError ? e.file : src.file;
            if (!this.bad.has(file)) {
              this.bad.add(file);
              this.o.onBadImage?.(file, (e as Error).message);
            }
          }
        }
        return null;
      }),
    );
    const ok = results.filter((r): r is NonNullable<typeof r> => r !== null);
    if (!ok.length) return null;
    const size = this.o.imgsz;
    const maxBoxes = Math.max(1, ...ok.map((r) => r.s.boxes.length));
    const images = new Float32Array(ok.length * 3 * size * size);
    const targets = new Float32Array(ok.length * maxBoxes * 6);
    ok.forEach((r, k) => {
      images.set(r.s.data, k * 3 * size * size);
      r.s.boxes.forEach((bx, j) =>
        targets.set([bx.cls, bx.x, bx.y, bx.x + bx.w, bx.y + bx.h, bx.weight ?? 1], (k * maxBoxes + j) * 6),
      );
    });
    return {
      images,
      targets,
      maxBoxes,
      size,
      files: ok.map((r) => r.file),
      labeled: ok.map((r) => r.labeled),
    };
  }

  /** All batches of an epoch with `prefetch` batches prepared ahead (sharp works while the step runs). */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const ahead = Math.max(1, this.o.prefetch ?? 2);
    const n = this.batchesPerEpoch;
    const queue: Promise<Batch | null>[] = [];
    for (let b = 0; b < Math.min(ahead, n); b++) queue.push(this.batch(epoch, b));
    for (let b = 0; b < n; b++) {
      const next = queue.shift()!;
      if (b + ahead < n) queue.push(this.batch(epoch, b + ahead));
      const batch = await next;
      if (batch) yield batch;
    }
  }
}
