import { afterAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src-main/store/project.js';
import { reviewDetections } from '../../src-main/eval/detection-review.js';
import { tempDir } from '../helpers.js';
import { DEFAULT_RUN_SETTINGS } from '../../src-main/settings/run-settings.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('detection review', () => {
  it('counts TP, FP, FN and low-IoU matches per image from stored predictions, with the confusion cells', () => {
    const store = ProjectStore.create(`${tmp.dir}/p`);
    try {
      const a = store.classes.create('a');
      const b = store.classes.create('b');
      const [i1, i2] = store.images.addMany([
        { path: 'x1.jpg', hash: '1', width: 100, height: 100, split: 'val', status: 'labeled' },
        { path: 'x2.jpg', hash: '2', width: 100, height: 100, split: 'val', status: 'labeled' },
      ]);
      store.annotations.addMany([
        { imageId: i1!, classId: a.id, x: 0, y: 0, w: 20, h: 20 },
        { imageId: i1!, classId: b.id, x: 50, y: 50, w: 20, h: 20 },
        { imageId: i2!, classId: a.id, x: 10, y: 10, w: 30, h: 30 }, // missed
      ]);
      const run = store.runs.create('r', DEFAULT_RUN_SETTINGS);
      store.runs.putPredictions(
        run.id,
        [i1!, i2!],
        [
          { imageId: i1!, classId: a.id, x: 0, y: 0, w: 20, h: 20, score: 0.9 }, // exact
          { imageId: i1!, classId: b.id, x: 54, y: 50, w: 20, h: 20, score: 0.8 }, // IoU 16*20/(800-320) = 0.667
          { imageId: i1!, classId: a.id, x: 80, y: 0, w: 10, h: 10, score: 0.7 }, // nothing there
          { imageId: i1!, classId: b.id, x: 0, y: 80, w: 10, h: 10, score: 0.1 }, // below conf
        ],
      );
      const r = reviewDetections(store, run.id, 'val', 0.25);
      const [one, two] = r.images;
      expect(one).toMatchObject({ imageId: i1, tp: 2, fp: 1, fn: 0, lowIou: 1 });
      expect(two).toMatchObject({ imageId: i2, tp: 0, fp: 0, fn: 1, lowIou: 0 });
      expect(r.classIds).toEqual([a.id, b.id]);
      // Background row (index 2): the missed box of image 2 under true class a.
      expect(r.cells[2]![0]).toContain(i2);
      expect(r.prCurves.map((c) => c.classId).sort()).toEqual([a.id, b.id].sort());
      // What is stored, said apart from what passes the confidence: a weak run's predictions all lie below 0.25
      // (the view once read that as "not evaluated" and asked for an evaluation forever).
      expect(r).toMatchObject({ evaluated: false, predictions: 4, confident: 3 });
      store.runs.putEvaluation(run.id, 'val', {});
      expect(reviewDetections(store, run.id, 'val', 0.95)).toMatchObject({
        evaluated: true,
        predictions: 4,
        confident: 0,
      });
      expect(reviewDetections(store, run.id, 'test', 0.25)).toMatchObject({ evaluated: false, predictions: 0 });
    } finally {
      store.close();
    }
  });
});
