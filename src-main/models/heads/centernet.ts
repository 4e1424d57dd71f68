/**
 * The CenterNet head as in centerX: at stride 4, three branches of Conv3x3 + ReLU + Conv1x1:
 * `cls` (C heatmap channels, sigmoid; bias -2.19 so initial scores are ~0.1), `wh` (box size in stride-4 cells)
 * and `reg` (sub-cell centre offset). `peaks` folds centerX's post-processing into the graph: a 3x3 max-pool
 * mask keeps only local maxima, so decoding is "every pixel above the threshold is a box".
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { Conv2d, ReLU, Sequential } from '../../engine/nn.js';
import { Head, registerHead, type ExportStyle } from '../head.js';

export const CENTERNET_STRIDE = 4;

const branch = (cin: number, mid: number, out: number) =>
  new Sequential(new Conv2d(cin, mid, 3, { padding: 1 }), ReLU(), new Conv2d(mid, out, 1));

export interface CenterNetOutputs {
  cls: Tensor;
  wh: Tensor;
  reg: Tensor;
}

const STYLES: readonly ExportStyle[] = [
  {
    name: 'centernet',
    description: "centerX's outputs cls/reg/wh at stride 4, peak extraction folded into the graph",
    layout: 'centernet',
  },
  { name: 'raw', description: 'cls (sigmoid heatmap, no peak extraction), reg, wh at stride 4', layout: 'centernet' },
];

export class CenterNetHead extends Head {
  readonly headName = 'centernet';
  readonly styles = STYLES;
  readonly stride = CENTERNET_STRIDE;
  cls: Sequential;
  wh: Sequential;
  reg: Sequential;
  constructor(
    readonly nc: number,
    cin: number,
    headConv = 64,
  ) {
    super();
    this.cls = this.add('cls', branch(cin, headConv, nc));
    this.wh = this.add('wh', branch(cin, headConv, 2));
    this.reg = this.add('reg', branch(cin, headConv, 2));
    ((this.cls.layers.at(-1) as Conv2d).bias!.data as Float32Array).fill(-2.19);
  }

  /** Raw maps: heatmap logits, wh, reg (what the losses consume). */
  maps(x: Tensor): CenterNetOutputs {
    return { cls: this.cls.forward(x), wh: this.wh.forward(x), reg: this.reg.forward(x) };
  }

  forward(x: Tensor): Tensor {
    return F.sigmoid(this.maps(x).cls);
  }

  /** centerX's output list: cls (heatmap; local maxima only in the `centernet` style), reg, wh. */
  outputs([x]: Tensor[], style: string): Record<string, Tensor> {
    this.style(style);
    const m = this.maps(x!);
    const heat = F.sigmoid(m.cls);
    return { cls: style === 'centernet' ? peaks(heat) : heat, reg: m.reg, wh: m.wh };
  }
}

registerHead({
  name: 'centernet',
  description: 'centerX CenterNet: Gaussian heatmaps, size and offset at stride 4, no NMS',
  reads: 'p2',
  styles: STYLES,
  build: ({ nc, channels }) => new CenterNetHead(nc, channels[0]!),
});

/** centerX's in-graph peak extraction: heat * (heat == maxpool3x3(heat)), written with ReLU and scaling. */
export function peaks(heat: Tensor): Tensor {
  const pooled = F.maxPool2d(heat, 3, { stride: 1, padding: 1 });
  const keep = F.mul(F.relu(F.add(F.sub(heat, pooled), 1e-9)), 1e9);
  return F.mul(heat, keep);
}
