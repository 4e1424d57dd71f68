/**
 * Dataset health: the plots people look at before training, from the accepted boxes, by split. Class balance,
 * boxes per image, box sizes (square root of the area, in pixels and as a share of the image) and aspect ratios;
 * and the images worth a look: exact duplicates (the same content hash, which a split leak between train and val
 * makes costly), boxes touching the image edge (often a cut object) and tiny boxes (few pixels to learn from).
 */
import { histogram, type Bin } from '../util/histogram.js';
import type { DB } from './db.js';

export type { Bin } from '../util/histogram.js';
import type { Split } from './types.js';

/** Box side (sqrt of area) bin edges, in pixels. */
const SIDE_EDGES = [0, 8, 16, 32, 64, 96, 128, 256, 512, Infinity];
/** Aspect w/h bin edges (log-spaced around 1). */
const ASPECT_EDGES = [0, 1 / 4, 1 / 2, 2 / 3, 3 / 2, 2, 4, Infinity];
/** Boxes per image bin edges. */
const COUNT_EDGES = [0, 1, 2, 4, 8, 16, 32, 64, Infinity];
/** A box within this many pixels of the border touches it. */
const EDGE_PX = 1;
/** A box with a side under this many pixels is tiny. */
const TINY_PX = 4;
const EXAMPLES = 50;

export interface SplitHealth {
  split: Split;
  images: number;
  /** Images marked done with no box: negatives. */
  negatives: number;
  boxes: number;
  perClass: { classId: number; name: string; boxes: number; images: number }[];
  boxesPerImage: Bin[];
  side: Bin[];
  /** Box side as a share of the image's longer side, in tenths. */
  relativeSide: Bin[];
  aspect: Bin[];
}

export interface DatasetHealth {
  splits: SplitHealth[];
  /** Groups of images with the same content; `splits` says when a group crosses splits (a leak). */
  duplicates: { hash: string; images: { id: number; path: string; split: Split }[]; crossSplit: boolean }[];
  edgeBoxes: { count: number; examples: { imageId: number; path: string; annotationId: number }[] };
  tinyBoxes: {
    count: number;
    examples: { imageId: number; path: string; annotationId: number; w: number; h: number }[];
  };
  pending: number;
}

interface BoxRow {
  id: number;
  image_id: number;
  class_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  iw: number;
  ih: number;
  split: Split;
  path: string;
}

export function datasetHealth(db: DB): DatasetHealth {
  const classes = db.prepare('SELECT id, name FROM classes ORDER BY ord, id').all() as { id: number; name: string }[];
  const boxes = db
    .prepare(
      `SELECT a.id, a.image_id, a.class_id, a.x, a.y, a.w, a.h, i.width AS iw, i.height AS ih, i.split, i.path
       FROM annotations a JOIN images i ON i.id = a.image_id WHERE a.review = 'accepted'`,
    )
    .all() as BoxRow[];
  const images = db.prepare('SELECT id, split, status, path, hash FROM images').all() as {
    id: number;
    split: Split;
    status: string;
    path: string;
    hash: string;
  }[];
  const perImage = new Map<number, number>();
  for (const b of boxes) perImage.set(b.image_id, (perImage.get(b.image_id) ?? 0) + 1);

  const splits = (['train', 'val', 'test'] as const).map((split): SplitHealth => {
    const ims = images.filter((im) => im.split === split);
    const bs = boxes.filter((b) => b.split === split);
    // One pass over the boxes for every class (not one per class: 80 classes x 300k boxes).
    const classBoxes = new Map<number, number>();
    const classImages = new Map<number, Set<number>>();
    for (const b of bs) {
      classBoxes.set(b.class_id, (classBoxes.get(b.class_id) ?? 0) + 1);
      const set = classImages.get(b.class_id) ?? new Set<number>();
      set.add(b.image_id);
      classImages.set(b.class_id, set);
    }
    return {
      split,
      images: ims.length,
      negatives: ims.filter((im) => im.status !== 'unlabeled' && !perImage.has(im.id)).length,
      boxes: bs.length,
      perClass: classes.map((c) => ({
        classId: c.id,
        name: c.name,
        boxes: classBoxes.get(c.id) ?? 0,
        images: classImages.get(c.id)?.size ?? 0,
      })),
      boxesPerImage: histogram(
        ims.filter((im) => im.status !== 'unlabeled').map((im) => perImage.get(im.id) ?? 0),
        COUNT_EDGES,
      ),
      side: histogram(
        bs.map((b) => Math.sqrt(b.w * b.h)),
        SIDE_EDGES,
      ),
      relativeSide: histogram(
        bs.map((b) => (10 * Math.sqrt(b.w * b.h)) / Math.max(b.iw, b.ih)),
        [0, 0.25, 0.5, 1, 2, 3, 5, 7.5, Infinity],
      ),
      aspect: histogram(
        bs.filter((b) => b.h > 0).map((b) => b.w / b.h),
        ASPECT_EDGES,
      ),
    };
  });

  const byHash = new Map<string, typeof images>();
  for (const im of images) byHash.set(im.hash, [...(byHash.get(im.hash) ?? []), im]);
  const duplicates = [...byHash.entries()]
    .filter(([, group]) => group.length > 1)
    .map(([hash, group]) => ({
      hash,
      images: group.map((im) => ({ id: im.id, path: im.path, split: im.split })),
      crossSplit: new Set(group.map((im) => im.split)).size > 1,
    }))
    .sort((a, b) => Number(b.crossSplit) - Number(a.crossSplit) || b.images.length - a.images.length);

  const edge = boxes.filter(
    (b) => b.x <= EDGE_PX || b.y <= EDGE_PX || b.x + b.w >= b.iw - EDGE_PX || b.y + b.h >= b.ih - EDGE_PX,
  );
  const tiny = boxes.filter((b) => Math.min(b.w, b.h) < TINY_PX);
  const { n: pending } = db.prepare("SELECT COUNT(*) AS n FROM annotations WHERE review = 'pending'").get() as {
    n: number;
  };
  return {
    splits,
    duplicates,
    edgeBoxes: {
      count: edge.length,
      examples: edge.slice(0, EXAMPLES).map((b) => ({ imageId: b.image_id, path: b.path, annotationId: b.id })),
    },
    tinyBoxes: {
      count: tiny.length,
      examples: tiny
        .slice(0, EXAMPLES)
        .map((b) => ({ imageId: b.image_id, path: b.path, annotationId: b.id, w: b.w, h: b.h })),
    },
    pending,
  };
}
