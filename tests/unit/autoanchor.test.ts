/** YOLOv5's autoanchor: the fit worked by hand, and a refit where the default anchors cannot recall the boxes. */
import { describe, expect, it } from 'vitest';
import { YOLOV5_ANCHORS } from '../../src-main/models/heads/yolov5-detect.js';
import { anchorFit, boxSizes, checkAnchors } from '../../src-main/train/autoanchor.js';
import { Rng } from '../../src-main/util/random.js';

describe('autoanchor', () => {
  it('measures best possible recall and anchors per box as YOLOv5 does', () => {
    // 10x10 fits a 10x10 anchor (ratio 1) and a 30x20 one (min ratio 1/3 > 1/4); 100x100 fits neither (1/10, 1/5).
    const fit = anchorFit(
      [
        [10, 10],
        [100, 100],
      ],
      [
        [10, 10],
        [30, 20],
      ],
    );
    expect(fit.bpr).toBe(0.5);
    expect(fit.anchorsPerBox).toBe(1);
  });

  it('takes box sizes at the letterboxed input size', () => {
    const wh = boxSizes([{ file: 'a', width: 640, height: 320, boxes: [{ cls: 0, x: 0, y: 0, w: 64, h: 32 }] }], 320);
    expect(wh).toEqual([[32, 16]]);
  });

  // Thin 2x50 boxes (and 50x2) at 320: every default anchor is over 4x wider (or taller).
  const rng = new Rng('thin');
  const sources = Array.from({ length: 40 }, (_, i) => ({
    file: `img${i}`,
    width: 320,
    height: 320,
    boxes: Array.from({ length: 5 }, (_, j) => {
      const [w, h] = (i + j) % 2 ? [rng.range(40, 60), rng.range(1.5, 2)] : [rng.range(1.5, 2), rng.range(40, 60)];
      return { cls: 0, x: 10, y: 10, w, h };
    }),
  }));

  it('refits anchors the boxes cannot use, sorted by area, the same for the same seed', () => {
    const r = checkAnchors(sources, YOLOV5_ANCHORS, { imgsz: 320, seed: 1, generations: 300 });
    expect(r.before.bpr).toBeLessThan(0.5);
    expect(r.replaced).toBe(true);
    expect(r.after!.bpr).toBeGreaterThan(0.98);
    const flat = r.anchors.flat();
    expect(flat).toHaveLength(9);
    const areas = flat.map(([w, h]) => w * h);
    expect([...areas].sort((a, b) => a - b)).toEqual(areas);
    expect(checkAnchors(sources, YOLOV5_ANCHORS, { imgsz: 320, seed: 1, generations: 300 }).anchors).toEqual(r.anchors);
  });

  it('keeps anchors that fit', () => {
    const fitting = [{ file: 'b', width: 320, height: 320, boxes: [{ cls: 0, x: 0, y: 0, w: 30, h: 60 }] }];
    const r = checkAnchors(fitting, YOLOV5_ANCHORS, { imgsz: 320 });
    expect(r.before.bpr).toBe(1);
    expect(r.after).toBeUndefined();
    expect(r.anchors).toEqual(YOLOV5_ANCHORS);
  });
});
