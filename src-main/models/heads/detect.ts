/**
 * The YOLO11 / YOLOv8 Detect head: per level a box branch (cv2: Conv 3x3, Conv 3x3, 1x1 to 4 x reg_max) and a
 * class branch (cv3: DWConv+Conv, DWConv+Conv, 1x1 to nc), and DFL (a fixed 1x1 conv over the reg_max bins).
 * `decode` produces Ultralytics' inference layout [B, 4 + nc, N]: xywh in input pixels, then class scores.
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { Conv2d, Module, Sequential } from '../../engine/nn.js';
import { nd } from '../../engine/ndarray.js';
import { Conv, DWConv, ModuleList } from '../common.js';
import { Head, registerHead, type ExportStyle, type NmsSettings } from '../head.js';
import { nmsHead } from '../postprocess.js';

export const REG_MAX = 16;

class DFL extends Module {
  conv: Conv2d;
  constructor(readonly bins = REG_MAX) {
    super();
    this.conv = this.add('conv', new Conv2d(bins, 1, 1, { bias: false }));
    this.conv.weight.data = Float32Array.from({ length: bins }, (_, i) => i);
    this.conv.weight.requiresGrad = false;
  }
  /** [B, 4*bins, A] -> expected distance per side [B, 4, A]. */
  forward(x: Tensor): Tensor {
    const [b, , a] = x.shape as [number, number, number];
    const p = F.softmax(F.transpose(F.reshape(x, [b, 4, this.bins, a]), [0, 2, 1, 3]), 1);
    return F.reshape(this.conv.forward(p), [b, 4, a]);
  }
}

const STYLES: readonly ExportStyle[] = [
  { name: 'raw', description: 'Ultralytics layout [B, 4+nc, N]; NMS by the reader', layout: 'ultralytics-raw' },
  { name: 'nms', description: '[B, max_det, 6] with class-aware NMS inside the graph', layout: 'ultralytics-nms' },
];

export class Detect extends Head {
  readonly headName = 'yolo';
  readonly styles = STYLES;
  cv2: ModuleList;
  cv3: ModuleList;
  dfl: DFL;
  readonly no: number;

  /** `legacy`: YOLOv8's class branch (two 3x3 Convs); YOLO11's has depthwise convs. */
  constructor(
    readonly nc: number,
    readonly channels: number[],
    readonly strides: number[],
    legacy = false,
  ) {
    super();
    const c2 = Math.max(16, Math.floor(channels[0]! / 4), REG_MAX * 4);
    const c3 = Math.max(channels[0]!, Math.min(nc, 100));
    this.no = nc + REG_MAX * 4;
    this.cv2 = this.add(
      'cv2',
      new ModuleList(
        channels.map((x) => new Sequential(new Conv(x, c2, 3), new Conv(c2, c2, 3), new Conv2d(c2, 4 * REG_MAX, 1))),
      ),
    );
    this.cv3 = this.add(
      'cv3',
      new ModuleList(
        channels.map((x) =>
          legacy
            ? new Sequential(new Conv(x, c3, 3), new Conv(c3, c3, 3), new Conv2d(c3, nc, 1))
            : new Sequential(
                new Sequential(DWConv(x, x, 3), new Conv(x, c3, 1)),
                new Sequential(DWConv(c3, c3, 3), new Conv(c3, c3, 1)),
                new Conv2d(c3, nc, 1),
              ),
        ),
      ),
    );
    this.dfl = this.add('dfl', new DFL());
    this.initBiases();
  }

  /** Ultralytics' bias_init: box logits 1.0; class logits log(5 / nc / (640 / stride)^2). */
  private initBiases(): void {
    this.strides.forEach((s, i) => {
      const box = (this.cv2.items[i] as Sequential).layers.at(-1) as Conv2d;
      const cls = (this.cv3.items[i] as Sequential).layers.at(-1) as Conv2d;
      box.bias!.data.fill(1);
      cls.bias!.data.fill(Math.log(5 / this.nc / (640 / s) ** 2));
    });
  }

  /** Raw per-level maps [B, 4*reg_max + nc, H, W] (what the losses consume). */
  levels(feats: Tensor[]): Tensor[] {
    return feats.map((f, i) => F.concat([this.cv2.items[i]!.forward(f), this.cv3.items[i]!.forward(f)], 1));
  }

  /** Decoded inference output [B, 4 + nc, N]: cx, cy, w, h in input pixels, then sigmoid class scores. */
  decode(levels: Tensor[]): Tensor {
    const b = levels[0]!.shape[0]!;
    const flat = F.concat(
      levels.map((l) => F.reshape(l, [b, this.no, -1])),
      2,
    );
    const [box, cls] = F.split(flat, [REG_MAX * 4, this.nc], 1) as [Tensor, Tensor];
    const dist = this.dfl.forward(box); // [B, 4, N]
    const { points, strides } = anchors(levels, this.strides);
    const g = flat.graph;
    const anchor = g.constant(points); // [2, N]
    const stride = g.constant(strides); // [1, N]
    const [lt, rb] = F.split(dist, [2, 2], 1) as [Tensor, Tensor];
    const x1y1 = F.sub(anchor, lt);
    const x2y2 = F.add(anchor, rb);
    const cxy = F.div(F.add(x1y1, x2y2), 2);
    const wh = F.sub(x2y2, x1y1);
    return F.concat([F.mul(F.concat([cxy, wh], 1), stride), F.sigmoid(cls)], 1);
  }

  get stride(): number {
    return Math.max(...this.strides);
  }

  forward(...feats: Tensor[]): Tensor {
    return this.decode(this.levels(feats));
  }

  /**
   * A Starling teacher's outputs for distillation: the raw layout `output0` and the box-distribution logits `dfl`
   * [B, 4 * reg_max, N] (not an export style: only the trainer reads it).
   */
  distillOutputs(feats: Tensor[]): Record<string, Tensor> {
    const levels = this.levels(feats);
    const b = levels[0]!.shape[0]!;
    const flat = F.concat(
      levels.map((l) => F.reshape(l, [b, this.no, -1])),
      2,
    );
    const [box] = F.split(flat, [REG_MAX * 4, this.nc], 1) as [Tensor, Tensor];
    return { output0: this.decode(levels), dfl: box };
  }

  outputs(feats: Tensor[], style: string, nms: Partial<NmsSettings> = {}): Record<string, Tensor> {
    this.style(style);
    const raw = this.forward(...feats);
    if (style === 'raw') return { output0: raw };
    return { output0: nmsHead(raw, { maxDet: nms.maxDet ?? 300, iou: nms.iou ?? 0.7, conf: nms.conf ?? 0.25 }) };
  }
}

registerHead({
  name: 'yolo',
  description: 'YOLOv8/11 Detect: anchor-free, DFL boxes, C binary classifiers at strides 8-32',
  reads: 'pan',
  styles: STYLES,
  build: ({ nc, channels, strides, options }) => new Detect(nc, channels, strides, options.legacy === true),
});

/** Anchor points (cell centres, in grid units) [2, N] and their strides [1, N], level by level. */
export function anchors(
  levels: Tensor[],
  strides: number[],
): { points: ReturnType<typeof nd>; strides: ReturnType<typeof nd> } {
  const xs: number[] = [];
  const ys: number[] = [];
  const ss: number[] = [];
  levels.forEach((l, i) => {
    const [h, w] = [l.shape[2]!, l.shape[3]!];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        xs.push(x + 0.5);
        ys.push(y + 0.5);
        ss.push(strides[i]!);
      }
  });
  return { points: nd([2, xs.length], [...xs, ...ys]), strides: nd([1, ss.length], ss) };
}
