/**
 * How good the pseudo-labels are, where the truth is known: the sample project keeps its unlabeled pool's true
 * boxes aside (settings.sample.hiddenGroundTruth, a COCO file). Teacher boxes on those images (whatever their
 * review state) are scored with the COCO evaluator (AP50) and by greedy matching at IoU 0.5 for precision and
 * recall at several score thresholds, so the user can pick the review threshold from evidence.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProjectStore } from '../store/project.js';
import { cocoGroundTruth } from '../eval/ground-truth.js';
import { cocoScore } from '../eval/score.js';
import { orZero } from '../eval/summary.js';

type Box4 = [number, number, number, number];
import { greedyMatch } from '../inference/boxes.js';

export interface PseudoLabelQuality {
  groundTruth: string;
  images: number;
  truths: number;
  boxes: number;
  /** COCO AP at IoU 0.5 and 0.5:0.95 of all teacher boxes on these images. */
  ap50: number;
  ap: number;
  thresholds: { score: number; precision: number; recall: number; boxes: number }[];
}

interface CocoFile {
  images: { id: number; file_name: string }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number]; iscrowd?: number }[];
  categories: { id: number; name: string }[];
}

export const QUALITY_THRESHOLDS = [0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9];

/** Null when the project has no hidden ground truth or no teacher boxes on those images. */
export function pseudoLabelQuality(store: ProjectStore): PseudoLabelQuality | null {
  const rel = (store.settings() as { sample?: { hiddenGroundTruth?: string } }).sample?.hiddenGroundTruth;
  if (!rel) return null;
  const file = path.resolve(store.root, rel);
  if (!fs.existsSync(file)) return null;
  const coco = JSON.parse(fs.readFileSync(file, 'utf8')) as CocoFile;
  const classIds = new Map(store.classes.list().map((c) => [c.name, c.id]));
  const category = new Map(coco.categories.map((c) => [c.id, classIds.get(c.name)]));
  const imageOf = new Map<number, number>();
  for (const im of coco.images) {
    const rec = store.images.byPath(im.file_name);
    if (rec) imageOf.set(im.id, rec.id);
  }
  const truths = new Map<number, { classId: number; box: number[] }[]>();
  for (const a of coco.annotations) {
    const imageId = imageOf.get(a.image_id);
    const classId = category.get(a.category_id);
    if (imageId === undefined || classId === undefined || a.iscrowd) continue;
    truths.set(imageId, [...(truths.get(imageId) ?? []), { classId, box: a.bbox }]);
  }
  const preds = new Map<number, { classId: number; box: number[]; score: number }[]>();
  let boxes = 0;
  for (const imageId of imageOf.values()) {
    const list = store.annotations
      .forImage(imageId)
      .filter((a) => a.source.startsWith('teacher:'))
      .map((a) => ({ classId: a.classId, box: [a.x, a.y, a.w, a.h], score: a.score ?? 1 }));
    preds.set(imageId, list);
    boxes += list.length;
  }
  if (!boxes) return null;

  // The truth per image, scored by the one COCO path (eval/); categories are project class ids here.
  const images = [...imageOf.values()].map((id) => ({
    id,
    truths: (truths.get(id) ?? []).map((t) => ({
      classId: t.classId,
      classIndex: [...classIds.values()].indexOf(t.classId),
      box: t.box as Box4,
    })),
  }));
  const gt = cocoGroundTruth(images, [...classIds.values()], (t) => t.classId);
  const dets = images.flatMap((im) =>
    preds.get(im.id)!.map((p) => ({ image_id: im.id, category_id: p.classId, score: p.score, bbox: p.box })),
  );
  const { summary } = cocoScore(gt, dets);
  const totalTruths = gt.annotations.length;
  const thresholds = QUALITY_THRESHOLDS.map((score) => {
    let tp = 0;
    let n = 0;
    for (const imageId of imageOf.values()) {
      const kept = preds.get(imageId)!.filter((p) => p.score >= score);
      n += kept.length;
      tp += greedyMatch(kept, truths.get(imageId) ?? []).matches.length;
    }
    return { score, precision: n ? tp / n : 0, recall: totalTruths ? tp / totalTruths : 0, boxes: n };
  });
  return {
    groundTruth: rel,
    images: imageOf.size,
    truths: totalTruths,
    boxes,
    ap: orZero(summary.mAP),
    ap50: orZero(summary.mAP50),
    thresholds,
  };
}
