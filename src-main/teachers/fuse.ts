/**
 * Merging the detections of several teachers (or of one teacher's test-time-augmented views) on one image:
 * class-aware NMS, or weighted boxes fusion (Solovyev et al., "Weighted boxes fusion", as the ensemble_boxes
 * package defines it with conf_type 'avg'): clusters of same-class boxes overlapping a fused box by more than
 * the IoU threshold are averaged by confidence, and the fused score is scaled down when fewer models agree.
 */
import { boxIou } from '../inference/boxes.js';

export interface FusedBox {
  classId: number;
  score: number;
  /** x, y, w, h in image pixels. */
  box: [number, number, number, number];
  /** Indices of the sets that contributed. */
  from: number[];
}

export interface DetectionSet {
  detections: { classId: number; score: number; box: [number, number, number, number] }[];
  /** The set's weight (WBF); default 1. */
  weight?: number;
}

export type FuseMethod = 'wbf' | 'nms';

export interface FuseOptions {
  method: FuseMethod;
  iou: number;
  /** Boxes scoring below this (after weighting) are dropped before fusion. */
  skipBelow?: number;
}

export function fuse(sets: readonly DetectionSet[], o: FuseOptions): FusedBox[] {
  return o.method === 'nms' ? nmsFuse(sets, o) : weightedBoxesFusion(sets, o);
}

interface Flat {
  classId: number;
  score: number;
  box: [number, number, number, number];
  set: number;
}

function flatten(sets: readonly DetectionSet[], weighted: boolean, skipBelow: number): Flat[] {
  const all: Flat[] = [];
  sets.forEach((s, set) => {
    const w = weighted ? (s.weight ?? 1) : 1;
    for (const d of s.detections) {
      const score = d.score * w;
      if (score >= skipBelow) all.push({ classId: d.classId, score, box: d.box, set });
    }
  });
  // Highest score first; ties keep set and arrival order so the result does not depend on the sort.
  return all.sort((a, b) => b.score - a.score);
}

/** Class-aware greedy NMS over the union of the sets. */
function nmsFuse(sets: readonly DetectionSet[], o: FuseOptions): FusedBox[] {
  const kept: FusedBox[] = [];
  for (const d of flatten(sets, false, o.skipBelow ?? 0)) {
    const over = kept.find((k) => k.classId === d.classId && boxIou(k.box, d.box) > o.iou);
    if (over) {
      if (!over.from.includes(d.set)) over.from.push(d.set);
      continue;
    }
    kept.push({ classId: d.classId, score: d.score, box: [...d.box], from: [d.set] });
  }
  return kept;
}

function weightedBoxesFusion(sets: readonly DetectionSet[], o: FuseOptions): FusedBox[] {
  const weightSum = sets.reduce((a, s) => a + (s.weight ?? 1), 0);
  const clusters: { classId: number; members: Flat[]; fused: [number, number, number, number]; score: number }[] = [];
  for (const d of flatten(sets, true, o.skipBelow ?? 0)) {
    // The fused box this one overlaps most, if above the threshold.
    let best = -1;
    let bestIou = o.iou;
    clusters.forEach((c, i) => {
      if (c.classId !== d.classId) return;
      const v = boxIou(c.fused, d.box);
      if (v > bestIou) [best, bestIou] = [i, v];
    });
    if (best < 0) {
      clusters.push({ classId: d.classId, members: [d], fused: [...d.box], score: d.score });
      continue;
    }
    const c = clusters[best]!;
    c.members.push(d);
    // Corners averaged by confidence, score averaged over the cluster.
    const total = c.members.reduce((a, m) => a + m.score, 0);
    const corner = (k: number) => c.members.reduce((a, m) => a + m.score * cornerOf(m.box, k), 0) / total;
    const [x1, y1, x2, y2] = [0, 1, 2, 3].map(corner) as [number, number, number, number];
    c.fused = [x1, y1, x2 - x1, y2 - y1];
    c.score = total / c.members.length;
  }
  return clusters
    .map((c) => ({
      classId: c.classId,
      score: (c.score * Math.min(sets.length, c.members.length)) / weightSum,
      box: c.fused,
      from: [...new Set(c.members.map((m) => m.set))].sort((a, b) => a - b),
    }))
    .sort((a, b) => b.score - a.score);
}

function cornerOf(b: readonly number[], k: number): number {
  return k === 0 ? b[0]! : k === 1 ? b[1]! : k === 2 ? b[0]! + b[2]! : b[1]! + b[3]!;
}
