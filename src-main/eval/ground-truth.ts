/**
 * What a split's truth is, in one place: the labeled images of the split (status not `unlabeled`) with their
 * accepted boxes. Training's validation, a run's evaluation and the detection review all read it from here, so
 * they always score the same images against the same boxes.
 */
import type { ProjectStore } from '../store/project.js';
import type { ClassRecord, Split } from '../store/types.js';
import type { CocoGt } from './coco-eval.js';

export interface TruthBox {
  /** Project class id, and its index in the project's class order (the model's class index). */
  classId: number;
  classIndex: number;
  /** x, y, w, h in image pixels. */
  box: [number, number, number, number];
}

export interface EvalImage {
  id: number;
  /** As stored (root-relative), and absolute. */
  path: string;
  file: string;
  width: number;
  height: number;
  truths: TruthBox[];
}

export interface SplitTruth {
  images: EvalImage[];
  classes: ClassRecord[];
}

export function splitTruth(store: ProjectStore, split: Split): SplitTruth {
  const classes = store.classes.list();
  const index = new Map(classes.map((c, i) => [c.id, i]));
  const images = store.images
    .list({ split }, 0, 1e9)
    .filter((im) => im.status !== 'unlabeled')
    .map((im): EvalImage => ({
      id: im.id,
      path: im.path,
      file: store.absolutePath(im.path),
      width: im.width,
      height: im.height,
      truths: store.annotations
        .forImage(im.id)
        .filter((a) => a.review === 'accepted')
        .map((a) => ({ classId: a.classId, classIndex: index.get(a.classId)!, box: [a.x, a.y, a.w, a.h] })),
    }));
  return { images, classes };
}

/**
 * The images' truth as COCO ground truth: image ids as given, annotation ids counted from 1 in image order, each
 * box's category from `category` among `categories`.
 */
export function cocoGroundTruth(
  images: readonly Pick<EvalImage, 'id' | 'truths'>[],
  categories: readonly number[],
  category: (t: TruthBox) => number = (t) => t.classIndex,
): CocoGt {
  const gt: CocoGt = { images: [], annotations: [], categories: categories.map((id) => ({ id })) };
  let annId = 1;
  for (const im of images) {
    gt.images.push({ id: im.id });
    for (const t of im.truths)
      gt.annotations.push({
        id: annId++,
        image_id: im.id,
        category_id: category(t),
        bbox: [...t.box],
        area: t.box[2] * t.box[3],
        iscrowd: 0,
      });
  }
  return gt;
}

/** Category ids 0..n-1: the model's class indices. */
export const classIndices = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
