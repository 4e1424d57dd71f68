/** The yolov5 head's objective: YOLOv5's matching on the CPU (yolov5-targets.ts) and its loss (yolov5-loss.ts). */
import type { AnchorDetect } from '../../models/heads/yolov5-detect.js';
import type { Detector } from '../../models/detector.js';
import type { Feed } from '../../runtime/session.js';
import type { Batch } from '../loader.js';
import { scaledGains, yolov5LevelFeeds, yolov5LevelInputs, yolov5Loss, type Yolov5Gains } from '../yolov5-loss.js';
import { yolov5Targets, type LevelGeometry } from '../yolov5-targets.js';
import { registerObjective, resolveGains } from './objective.js';
import { AutoAnchorHook } from '../hooks/autoanchor.js';

/**
 * Padded match rows a graph is compiled for: powers of four from 64, so one or two graphs serve a run (a compile
 * costs more than padding many steps' matches; padding rows change nothing), chosen by the batch alone so a
 * resumed run builds the same graphs.
 */
export function matchRows(count: number): number {
  let m = 64;
  while (m < count) m *= 4;
  return m;
}

/** The head's levels at input size `imgsz` (square, as the trainer feeds it). */
function geometry(model: Detector, imgsz: number): LevelGeometry[] {
  const head = model.head as AnchorDetect;
  return model.outputStrides.map((stride, i) => ({
    h: Math.ceil(imgsz / stride),
    w: Math.ceil(imgsz / stride),
    stride,
    anchors: head.anchors[i]!,
  }));
}

registerObjective(
  'yolov5',
  (model, { imgsz, distill, gains: over, autoanchor = true }) => {
    if (distill?.dense.length)
      throw new Error(
        'distillation into a yolov5 head is not built (its teachers would need an objectness and anchor mapping); ' +
          'pseudo-labels from teachers train it as boxes',
      );
    const head = model.head as AnchorDetect;
    const nc = model.config.nc;
    const gains = scaledGains(resolveGains<Yolov5Gains>('yolov5', over), { nl: model.outputStrides.length, nc, imgsz });
    // One batch's matches, kept between `dims` and `feeds` (the trainer asks for both of the same batch). The
    // anchors are read per batch: autoanchor sets them before the first.
    let last: { batch: Batch; targets: ReturnType<typeof yolov5Targets>; cells: number[]; rows: number } | null = null;
    const matchesOf = (batch: Batch) => {
      if (last?.batch !== batch) {
        const levels = geometry(model, imgsz);
        const n = batch.files.length;
        const targets = yolov5Targets(batch.targets, n, batch.maxBoxes, levels);
        const rows = matchRows(Math.max(...targets.map((t) => t.count)));
        last = { batch, targets, cells: levels.map((l) => n * head.na * l.h * l.w), rows };
      }
      return last;
    };
    return {
      loss(g, m, images, batch, dims) {
        const rows = dims?.rows ?? 64;
        const h = m.head as AnchorDetect;
        const levelRows = h.levels(m.features(images)).map((l) => h.rows(l));
        const inputs = levelRows.map((_, i) => yolov5LevelInputs(g, i, rows, h.no));
        const r = yolov5Loss(levelRows, inputs, { nc, gains });
        return { loss: r.loss, terms: r.terms };
      },
      dims: (batch) => ({ rows: matchesOf(batch).rows }),
      feeds(batch) {
        const { targets, cells, rows } = matchesOf(batch);
        const feeds: Record<string, Feed> = {};
        targets.forEach((t, i) => Object.assign(feeds, yolov5LevelFeeds(i, t, rows, head.no, cells[i]!)));
        return feeds;
      },
      hooks: ({ train, resume, log }) => (resume || !autoanchor ? [] : [new AutoAnchorHook(train, imgsz, log)]),
      // About what YOLOv5's gains make of each term mid-training (its logged train losses on COCO), per image.
      adaptive: { targets: { box: 0.04, obj: 0.06, cls: 0.02 }, perImage: true },
    };
  },
  // hyp.scratch-low.yaml's gains (train.py scales them by levels, classes and image size).
  { box: 0.05, obj: 1.0, cls: 0.5 },
);
