/**
 * YOLOv5's anchor-based Detect head: per level one 1x1 Conv2d to na x (5 + nc) channels (`m.<i>`), read as
 * [B, na, H, W, 5 + nc]: box offsets, objectness and C class logits per anchor. Inference decodes as YOLOv5 v6:
 * xy = (2 sigmoid - 0.5 + cell) x stride, wh = (2 sigmoid)^2 x anchor, and exports YOLOv5's layout [B, N, 5 + nc]
 * (cx, cy, w, h in input pixels, objectness, class probabilities), which the `yolov5` decoder reads.
 * The anchors start as YOLOv5's defaults for P3-P5 and live in its `anchors` buffer (grid units): a YOLOv5 checkpoint's
 * load with it, and autoanchor (train/autoanchor.ts) refits them to a dataset before training.
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { nd } from '../../engine/ndarray.js';
import { Conv2d, type Parameter } from '../../engine/nn.js';
import { ModuleList } from '../common.js';
import { Head, registerHead, type ExportStyle, type NmsSettings } from '../head.js';
import { nmsHead } from '../postprocess.js';

/** yolov5s.yaml's anchors, [w, h] pairs in input pixels, per level (P3/8, P4/16, P5/32). */
export const YOLOV5_ANCHORS: readonly (readonly [number, number])[][] = [
  [
    [10, 13],
    [16, 30],
    [33, 23],
  ],
  [
    [30, 61],
    [62, 45],
    [59, 119],
  ],
  [
    [116, 90],
    [156, 198],
    [373, 326],
  ],
];

const STYLES: readonly ExportStyle[] = [
  {
    name: 'raw',
    description: "YOLOv5's layout [B, N, 5+nc]: xywh, objectness, class probabilities; NMS by the reader",
    layout: 'yolov5',
  },
  {
    name: 'nms',
    description: '[B, max_det, 6] with class-aware NMS on obj x class inside the graph',
    layout: 'ultralytics-nms',
  },
];

export class AnchorDetect extends Head {
  readonly headName = 'yolov5';
  readonly styles = STYLES;
  readonly no: number;
  readonly na: number;
  /** YOLOv5's `anchors` buffer [nl, na, 2], in grid units of each level (so a YOLOv5 state dict's load). */
  private readonly anchorGrid: Parameter;
  m: ModuleList;

  constructor(
    readonly nc: number,
    channels: number[],
    readonly strides: number[],
    /** Per level, [w, h] in input pixels. */
    anchors: readonly (readonly [number, number])[][] = YOLOV5_ANCHORS,
  ) {
    super();
    if (anchors.length !== strides.length)
      throw new Error(`the yolov5 head has anchors for ${anchors.length} levels, the neck gives ${strides.length}`);
    this.na = anchors[0]!.length;
    this.no = nc + 5;
    this.anchorGrid = this.buffer(
      'anchors',
      [anchors.length, this.na, 2],
      new Float32Array(anchors.length * this.na * 2),
    );
    this.setAnchors(anchors);
    this.m = this.add('m', new ModuleList(channels.map((c) => new Conv2d(c, this.no * this.na, 1))));
    this.initBiases();
  }

  /** Per level, each anchor's [w, h] in input pixels (from the buffer: a loaded or autoanchored set). */
  get anchors(): [number, number][][] {
    const d = this.anchorGrid.data;
    return this.strides.map((s, i) =>
      Array.from({ length: this.na }, (_, a) => [d[(i * this.na + a) * 2]! * s, d[(i * this.na + a) * 2 + 1]! * s]),
    );
  }

  /** Sets the anchors, per level, in input pixels. */
  setAnchors(px: readonly (readonly (readonly [number, number])[])[]): void {
    const d = new Float32Array(this.anchorGrid.size);
    px.forEach((level, i) =>
      level.forEach(([w, h], a) => d.set([w / this.strides[i]!, h / this.strides[i]!], (i * this.na + a) * 2)),
    );
    this.anchorGrid.data = d;
  }

  /** YOLOv5's _initialize_biases: objectness for 8 objects per 640 image, classes at 0.6 / (nc - 0.99999). */
  private initBiases(): void {
    this.strides.forEach((s, i) => {
      const bias = (this.m.items[i] as Conv2d).bias!.data as Float32Array;
      for (let a = 0; a < this.na; a++) {
        bias[a * this.no + 4]! += Math.log(8 / (640 / s) ** 2);
        for (let c = 0; c < this.nc; c++) bias[a * this.no + 5 + c]! += Math.log(0.6 / (this.nc - 0.99999));
      }
    });
  }

  /** Raw per-level maps [B, na x (5 + nc), H, W] (what the loss consumes). */
  levels(feats: Tensor[]): Tensor[] {
    return feats.map((f, i) => this.m.items[i]!.forward(f));
  }

  /** A level's map as rows [B, na x H x W, 5 + nc], anchor-major then row-major cells, as YOLOv5 flattens it. */
  rows(level: Tensor): Tensor {
    const [b, , h, w] = level.shape as [number, number, number, number];
    const x = F.transpose(F.reshape(level, [b, this.na, this.no, h * w]), [0, 1, 3, 2]);
    return F.reshape(x, [b, this.na * h * w, this.no]);
  }

  /** YOLOv5's inference output [B, N, 5 + nc]. */
  decode(levels: Tensor[]): Tensor {
    const g = levels[0]!.graph;
    const anchors = this.anchors; // from the buffer once, not per cell
    const out = levels.map((l, i) => {
      const [, , h, w] = l.shape as [number, number, number, number];
      const s = this.strides[i]!;
      const y = F.sigmoid(this.rows(l));
      const [xy, wh, conf] = F.split(y, [2, 2, this.no - 4], 2) as [Tensor, Tensor, Tensor];
      // xy = (2 sigmoid + cell - 0.5) s: a per-row offset; wh = (2 sigmoid)^2 anchor = sigmoid^2 (4 anchor).
      const offset = new Float64Array(this.na * h * w * 2);
      const scale = new Float64Array(this.na * h * w * 2);
      for (let a = 0; a < this.na; a++)
        for (let k = 0; k < h * w; k++) {
          const r = (a * h * w + k) * 2;
          offset[r] = ((k % w) - 0.5) * s;
          offset[r + 1] = (Math.floor(k / w) - 0.5) * s;
          scale[r] = 4 * anchors[i]![a]![0];
          scale[r + 1] = 4 * anchors[i]![a]![1];
        }
      const cxy = F.add(F.mul(xy, 2 * s), g.constant(nd([1, this.na * h * w, 2], offset)));
      const size = F.mul(F.mul(wh, wh), g.constant(nd([1, this.na * h * w, 2], scale)));
      return F.concat([cxy, size, conf], 2);
    });
    return F.concat(out, 1);
  }

  get stride(): number {
    return Math.max(...this.strides);
  }

  forward(...feats: Tensor[]): Tensor {
    return this.decode(this.levels(feats));
  }

  outputs(feats: Tensor[], style: string, nms: Partial<NmsSettings> = {}): Record<string, Tensor> {
    this.style(style);
    const out = this.forward(...feats);
    if (style === 'raw') return { output0: out };
    // Scores obj x class in Ultralytics' raw layout [B, 4 + nc, N], then the same in-graph NMS as the yolo head.
    const [xywh, obj, cls] = F.split(out, [4, 1, this.nc], 2) as [Tensor, Tensor, Tensor];
    const raw = F.transpose(F.concat([xywh, F.mul(cls, obj)], 2), [0, 2, 1]);
    return { output0: nmsHead(raw, { maxDet: nms.maxDet ?? 300, iou: nms.iou ?? 0.45, conf: nms.conf ?? 0.25 }) };
  }
}

registerHead({
  name: 'yolov5',
  description: "YOLOv5 Detect: 3 anchors per cell, objectness and C classifiers at strides 8-32 (YOLOv5's loss)",
  reads: 'pan',
  styles: STYLES,
  build: ({ nc, channels, strides }) => new AnchorDetect(nc, channels, strides),
});
