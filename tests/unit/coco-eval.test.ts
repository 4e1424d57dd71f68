import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cocoEvaluate, type CocoDet, type CocoGt } from '../../src-main/eval/coco-eval.js';

/** gt.json / dt.json / expected.json made by tests/fixtures/coco/make_fixture.py with pycocotools' COCOeval. */
const FIX = 'tests/fixtures/coco';
const read = <T>(f: string) => JSON.parse(fs.readFileSync(`${FIX}/${f}`, 'utf8')) as T;

describe('COCO evaluator', () => {
  it("equals pycocotools' COCOeval bbox summary, all 12 numbers, to 1e-4", () => {
    const r = cocoEvaluate(read<CocoGt>('gt.json'), read<CocoDet[]>('dt.json'));
    const expected = read<{ stats: number[] }>('expected.json').stats;
    expect(r.stats).toHaveLength(12);
    r.stats.forEach((v, i) =>
      expect(Math.abs(v - expected[i]!), `stats[${i}]: ${v} vs ${expected[i]}`).toBeLessThan(1e-4),
    );
  });

  it('scores perfect detections 1.0 and reports per-class AP, with -1 for classes without ground truth', () => {
    const gt: CocoGt = {
      images: [{ id: 1 }, { id: 2 }],
      categories: [{ id: 1 }, { id: 2 }, { id: 3 }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 50, 40], area: 2000 },
        { id: 2, image_id: 2, category_id: 2, bbox: [100, 50, 20, 20], area: 400 },
      ],
    };
    const dets: CocoDet[] = [
      { image_id: 1, category_id: 1, bbox: [10, 10, 50, 40], score: 0.9 },
      { image_id: 2, category_id: 2, bbox: [100, 50, 20, 20], score: 0.8 },
    ];
    const r = cocoEvaluate(gt, dets);
    expect(r.stats[0]).toBeCloseTo(1, 9);
    expect(r.stats[1]).toBeCloseTo(1, 9);
    expect(r.perClass).toEqual([
      { categoryId: 1, ap: expect.closeTo(1, 9), ap50: expect.closeTo(1, 9) },
      { categoryId: 2, ap: expect.closeTo(1, 9), ap50: expect.closeTo(1, 9) },
      { categoryId: 3, ap: -1, ap50: -1 },
    ]);
    // A detection at IoU exactly 0.6 matches at thresholds .50, .55 and .60 (COCOeval skips only iou < t): 3 of 10.
    const shifted = cocoEvaluate(gt, [{ image_id: 1, category_id: 1, bbox: [10 + 12.5, 10, 50, 40], score: 0.9 }]);
    expect(shifted.perClass[0]!.ap50).toBeCloseTo(1, 9);
    expect(shifted.perClass[0]!.ap).toBeCloseTo(0.3, 9);
  });

  it('refuses detections on images the ground truth does not have', () => {
    expect(() =>
      cocoEvaluate({ images: [{ id: 1 }], categories: [{ id: 1 }], annotations: [] }, [
        { image_id: 7, category_id: 1, bbox: [0, 0, 1, 1], score: 1 },
      ]),
    ).toThrow(/detection 1: image_id 7 is not in the ground truth/);
  });
});
