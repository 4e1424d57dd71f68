/**
 * A detector = backbone + YOLO11 neck + head, built as Ultralytics builds YOLO11 from its yaml: a numbered
 * layer list (`model.<i>`), each layer reading the previous output or earlier ones. With the CSP backbone and
 * the yolo head it is YOLO11 layer for layer; with a registered backbone it is the seeds' YOLO11 integration
 * (the backbone is layer 0 and occupies indices 0-4, its stride 4/8/16/32 maps at 1-4; SPPF and C2PSA follow).
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/ir.js';
import { Module } from '../engine/nn.js';
import { backboneEntry, type Backbone } from './backbone.js';
import { C2PSA, C3k2, Conv, makeDivisible, SPPF } from './common.js';
import type { DetectorConfig } from './config.js';
import { CenterNetHead, CENTERNET_STRIDE } from './heads/centernet.js';
import { Detect } from './heads/detect.js';

/** [depth, width, max_channels] per scale, as in yolo11.yaml. */
export const SCALES = {
  n: [0.5, 0.25, 1024],
  s: [0.5, 0.5, 1024],
  m: [0.5, 1.0, 512],
  l: [1.0, 1.0, 512],
  x: [1.0, 1.5, 512],
} as const;
export type Scale = keyof typeof SCALES;

type From = number | number[];
interface Layer {
  from: From;
  module: Module | null;
  run: (inputs: Tensor[]) => Tensor | Tensor[];
}

const upsample = (): Omit<Layer, 'from'> => ({ module: null, run: ([x]) => F.upsampleNearest2x(x!) });
const concat = (): Omit<Layer, 'from'> => ({ module: null, run: (xs) => F.concat(xs, 1) });
const mod = (m: Module): Omit<Layer, 'from'> => ({ module: m, run: ([x]) => m.forward(x!) });

export class Detector extends Module {
  private readonly layers: Layer[] = [];
  private readonly model: Module;
  readonly head: Detect | null = null;
  readonly centernet: CenterNetHead | null = null;
  /** Number of layer indices (Ultralytics' layer count before the head is `layerCount - 1`). */
  readonly layerCount: number;
  /** Indices of the P3/P4/P5 outputs the head reads (or the backbone features for head 'none'). */
  readonly outputs: number[];
  readonly outputStrides: number[];
  readonly outputChannels: number[];

  constructor(readonly config: DetectorConfig) {
    super();
    const [depth, width, maxCh] = SCALES[config.scale];
    const ch = (c: number) => makeDivisible(Math.min(c, maxCh) * width, 8);
    const n = (r: number) => (r > 1 ? Math.max(Math.round(r * depth), 1) : r);
    const mlx = config.scale === 'm' || config.scale === 'l' || config.scale === 'x';
    const channels: number[] = []; // output channels per layer index
    const model = new (class extends Module {
      forward(): Tensor {
        throw new Error('not callable');
      }
    })();
    this.model = this.add('model', model);
    // Layer indices are positions in `channels` (a multi-output backbone takes five: 0-4).
    const push = (from: From, l: Omit<Layer, 'from'>, outCh: number) => {
      if (l.module) model.add(channels.length, l.module);
      this.layers.push({ from, ...l });
      channels.push(outCh);
    };
    const last = () => channels.length - 1;
    const inCh = (from: From) =>
      Array.isArray(from) ? from.reduce((s, f) => s + channels.at(f < 0 ? f : f)!, 0) : channels.at(from)!;

    let P2: number, P3: number, P4: number;
    let strides4: number[];
    if (config.backbone === 'yolo11') {
      push(-1, mod(new Conv(3, ch(64), 3, 2)), ch(64));
      push(-1, mod(new Conv(ch(64), ch(128), 3, 2)), ch(128));
      push(-1, mod(new C3k2(ch(128), ch(256), n(2), mlx, 0.25)), ch(256));
      push(-1, mod(new Conv(ch(256), ch(256), 3, 2)), ch(256));
      push(-1, mod(new C3k2(ch(256), ch(512), n(2), mlx, 0.25)), ch(512));
      push(-1, mod(new Conv(ch(512), ch(512), 3, 2)), ch(512));
      push(-1, mod(new C3k2(ch(512), ch(512), n(2), true)), ch(512));
      push(-1, mod(new Conv(ch(512), ch(1024), 3, 2)), ch(1024));
      push(-1, mod(new C3k2(ch(1024), ch(1024), n(2), true)), ch(1024));
      [P2, P3, P4] = [2, 4, 6];
      strides4 = [4, 8, 16, 32];
    } else {
      const bb = backboneEntry(config.backbone).build({ width, depth }) as Backbone;
      const info = bb.featureInfo;
      if (info.length !== 4) throw new Error(`backbone ${config.backbone} must give 4 feature maps (strides 4-32)`);
      // Layer 0 returns four maps; like the seeds' parse_model they take indices 1-4 (index 0 is empty).
      model.add(0, bb);
      this.layers.push({ from: -1, module: bb, run: ([x]) => bb.features(x!) });
      channels.push(0, ...info.map((f) => f.channels));
      [P2, P3, P4] = [1, 2, 3];
      strides4 = info.map((f) => f.stride);
    }
    push(-1, mod(new SPPF(channels.at(-1)!, ch(1024), 5)), ch(1024));
    push(-1, mod(new C2PSA(ch(1024), ch(1024), n(2))), ch(1024));
    const P5 = last();

    this.layerCount = 0;
    if (config.head === 'none') {
      this.layerCount = channels.length;
      this.outputs = config.backbone === 'yolo11' ? [2, P3, P4, P5] : [1, 2, 3, 4];
      this.outputStrides = strides4;
      this.outputChannels = this.outputs.map((i) => channels[i]!);
      return;
    }
    push(-1, upsample(), ch(1024));
    push([-1, P4], concat(), inCh([-1, P4]));
    push(-1, mod(new C3k2(channels.at(-1)!, ch(512), n(2), mlx)), ch(512));
    const N4 = last();
    push(-1, upsample(), ch(512));
    push([-1, P3], concat(), inCh([-1, P3]));
    push(-1, mod(new C3k2(channels.at(-1)!, ch(256), n(2), mlx)), ch(256));
    const O3 = last();
    if (config.head === 'centernet') {
      // centerX predicts at stride 4: upsample the P3 output and fuse it with the backbone's stride-4 map.
      push(-1, upsample(), ch(256));
      push([-1, P2], concat(), inCh([-1, P2]));
      push(-1, mod(new C3k2(channels.at(-1)!, ch(128), n(2), mlx)), ch(128));
      const O2 = last();
      this.outputs = [O2];
      this.outputStrides = [CENTERNET_STRIDE];
      this.outputChannels = [ch(128)];
      this.centernet = new CenterNetHead(config.nc, ch(128));
      model.add(channels.length, this.centernet);
      this.layerCount = channels.length + 1;
      return;
    }
    push(-1, mod(new Conv(ch(256), ch(256), 3, 2)), ch(256));
    push([-1, N4], concat(), inCh([-1, N4]));
    push(-1, mod(new C3k2(channels.at(-1)!, ch(512), n(2), mlx)), ch(512));
    const O4 = last();
    push(-1, mod(new Conv(ch(512), ch(512), 3, 2)), ch(512));
    push([-1, P5], concat(), inCh([-1, P5]));
    push(-1, mod(new C3k2(channels.at(-1)!, ch(1024), n(2), true)), ch(1024));
    const O5 = last();
    this.outputs = [O3, O4, O5];
    this.outputStrides = [8, 16, 32];
    this.outputChannels = this.outputs.map((i) => channels[i]!);
    this.head = new Detect(config.nc, this.outputChannels, this.outputStrides);
    model.add(channels.length, this.head);
    this.layerCount = channels.length + 1;
  }

  /** Runs the layer list; returns the maps at `outputs` (P3-P5, or the backbone features). */
  features(x: Tensor): Tensor[] {
    const y: (Tensor | undefined)[] = [];
    let cur: Tensor = x;
    for (const layer of this.layers) {
      const ins = (Array.isArray(layer.from) ? layer.from : [layer.from]).map((f) => (f === -1 ? cur : y[f]!));
      const out = layer.run(ins);
      if (Array.isArray(out)) {
        // A multi-output backbone: index 0 stays empty, its maps take indices 1-4 (as in the seeds).
        y.push(undefined, ...out);
        cur = out.at(-1)!;
      } else {
        y.push(out);
        cur = out;
      }
    }
    return this.outputs.map((i) => y[i]!);
  }

  /** Raw head maps per level (training). */
  levels(x: Tensor): Tensor[] {
    if (!this.head) throw new Error('this detector has no head');
    return this.head.levels(this.features(x));
  }

  /** CenterNet maps at stride 4: heatmap logits, wh, reg. */
  centerMaps(x: Tensor): { cls: Tensor; wh: Tensor; reg: Tensor } {
    if (!this.centernet) throw new Error('this detector has no centernet head');
    return this.centernet.maps(this.features(x)[0]!);
  }

  /** yolo: decoded [B, 4 + nc, N]; centernet: the sigmoid heatmap; none: the last feature map. */
  forward(x: Tensor): Tensor {
    if (this.centernet) return F.sigmoid(this.centerMaps(x).cls);
    if (!this.head) return this.features(x).at(-1)!;
    return this.head.decode(this.levels(x));
  }
}
