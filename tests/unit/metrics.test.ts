import { describe, expect, it } from 'vitest';
import { detectionMetrics, type MetricBox, type MetricDet } from '../../src-main/eval/metrics.js';

const box = (imageId: number, classId: number, x: number, y: number): MetricBox => ({
  imageId,
  classId,
  bbox: [x, y, 10, 10],
});
const det = (imageId: number, classId: number, x: number, y: number, score: number): MetricDet => ({
  ...box(imageId, classId, x, y),
  score,
});

describe('detection metrics', () => {
  // Hand-worked case: two classes, a duplicate, a false positive and a class confusion.
  const gt = [box(1, 0, 0, 0), box(1, 1, 20, 20), box(2, 0, 0, 0)];
  const dets = [
    det(1, 0, 0, 0, 0.9), // TP class 0
    det(1, 1, 50, 50, 0.8), // FP class 1 (nothing there)
    det(2, 0, 0, 0, 0.7), // TP class 0
    det(2, 0, 1, 0, 0.6), // duplicate of the previous: FP
    det(1, 0, 20, 20, 0.5), // class 0 on the class-1 object: FP for class 0, a confusion cell
  ];
  const m = detectionMetrics(gt, dets, 2);

  it('computes AP50 per class and P/R at the best mean-F1 confidence', () => {
    // Ultralytics' compute_ap: a perfect class integrates to 0.995 (the last recall point interpolates to 0).
    expect(m.perClass[0]!.ap50).toBeCloseTo(0.995, 9);
    expect(m.perClass[1]!.ap50).toBe(0);
    expect(m.perClass.map((c) => c.gt)).toEqual([2, 1]);
    // Best mean F1 (0.5) holds for confidences in (0.6, 0.7]: class 0 has P = R = 1, class 1 has P = R = 0.
    expect(m.f1).toBeCloseTo(0.5, 9);
    expect(m.bestConf).toBeGreaterThan(0.6);
    expect(m.bestConf).toBeLessThanOrEqual(0.7);
    expect(m.precision).toBeCloseTo(0.5, 9);
    expect(m.recall).toBeCloseTo(0.5, 9);
    expect(m.prCurves[0]!.precision.slice(0, 100).every((p) => p === 1)).toBe(true);
  });

  it('fills the confusion matrix with background row/column and remembers the images per cell', () => {
    // rows: predicted 0, 1, background; columns: true 0, 1, background
    expect(m.confusion).toEqual([
      [2, 1, 1],
      [0, 0, 1],
      [0, 0, 0],
    ]);
    expect(m.cells[0]![1]).toEqual([1]);
    expect(m.cells[0]![2]).toEqual([2]);
    expect(m.cells[1]![2]).toEqual([1]);
  });

  it('counts missed objects as predicted background', () => {
    const r = detectionMetrics([box(1, 0, 0, 0), box(1, 1, 40, 40)], [det(1, 0, 0, 0, 0.9)], 2);
    expect(r.confusion[2]![1]).toBe(1);
    expect(r.perClass[1]!.recall).toBe(0);
  });
});

describe('npInterp', () => {
  it('follows numpy.interp, including repeated x values', async () => {
    const { npInterp } = await import('../../src-main/eval/metrics.js');
    expect(npInterp(0, [0, 0, 1], [1, 0, 0])).toBe(0);
    expect(npInterp(0.25, [0, 0.5, 1], [1, 0.5, 0])).toBeCloseTo(0.75, 12);
    expect(npInterp(1, [0, 0.5, 1, 1], [1, 1, 0.5, 0])).toBe(0);
    expect(npInterp(-1, [0, 1], [3, 4])).toBe(3);
  });
});
