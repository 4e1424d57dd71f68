/**
 * GhostNet 1.0x as in the official implementation (huawei-noah/Efficient-AI-Backbones): conv_stem/bn1/act1,
 * `blocks` of GhostBottlenecks (GhostModule = primary conv + cheap depthwise conv, concatenated and cut to
 * the output width; SqueezeExcite with a hard-sigmoid gate), and the final ConvBnAct to 960 channels.
 * Parameter names follow the official state dict; its conv_head and classifier are not part of the extractor.
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { BatchNorm2d, Conv2d, Module, ReLU, Sequential } from '../../engine/nn.js';
import { registerBackbone, runTaps, sameNames, type Backbone, type FeatureInfo } from '../backbone.js';
import { makeDivisible } from '../common.js';

class GhostModule extends Module {
  primary_conv: Sequential;
  cheap_operation: Sequential;
  constructor(
    inp: number,
    readonly oup: number,
    kernel = 1,
    ratio = 2,
    dwSize = 3,
    stride = 1,
    relu = true,
  ) {
    super();
    const init = Math.ceil(oup / ratio);
    const extra = init * (ratio - 1);
    this.primary_conv = this.add(
      'primary_conv',
      new Sequential(
        new Conv2d(inp, init, kernel, { stride, padding: kernel >> 1, bias: false }),
        new BatchNorm2d(init),
        relu ? ReLU() : new Sequential(),
      ),
    );
    this.cheap_operation = this.add(
      'cheap_operation',
      new Sequential(
        new Conv2d(init, extra, dwSize, { padding: dwSize >> 1, groups: init, bias: false }),
        new BatchNorm2d(extra),
        relu ? ReLU() : new Sequential(),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    const x1 = this.primary_conv.forward(x);
    const out = F.concat([x1, this.cheap_operation.forward(x1)], 1);
    return out.shape[1] === this.oup ? out : F.slice(out, [0], [this.oup], [1]);
  }
}

class SqueezeExcite extends Module {
  conv_reduce: Conv2d;
  conv_expand: Conv2d;
  constructor(c: number, seRatio = 0.25) {
    super();
    const reduced = makeDivisible(c * seRatio, 4);
    this.conv_reduce = this.add('conv_reduce', new Conv2d(c, reduced, 1));
    this.conv_expand = this.add('conv_expand', new Conv2d(reduced, c, 1));
  }
  forward(x: Tensor): Tensor {
    const s = this.conv_expand.forward(F.relu(this.conv_reduce.forward(F.globalAvgPool(x))));
    return F.mul(x, F.hardsigmoid(s)); // the official hard_sigmoid: relu6(x + 3) / 6
  }
}

class GhostBottleneck extends Module {
  ghost1: GhostModule;
  conv_dw?: Conv2d;
  bn_dw?: BatchNorm2d;
  se?: SqueezeExcite;
  ghost2: GhostModule;
  shortcut: Module;
  constructor(
    inp: number,
    mid: number,
    out: number,
    k: number,
    readonly stride: number,
    seRatio: number,
  ) {
    super();
    this.ghost1 = this.add('ghost1', new GhostModule(inp, mid, 1, 2, 3, 1, true));
    if (stride > 1) {
      this.conv_dw = this.add(
        'conv_dw',
        new Conv2d(mid, mid, k, { stride, padding: (k - 1) >> 1, groups: mid, bias: false }),
      );
      this.bn_dw = this.add('bn_dw', new BatchNorm2d(mid));
    }
    if (seRatio > 0) this.se = this.add('se', new SqueezeExcite(mid, seRatio));
    this.ghost2 = this.add('ghost2', new GhostModule(mid, out, 1, 2, 3, 1, false));
    this.shortcut = this.add(
      'shortcut',
      inp === out && stride === 1
        ? new Sequential()
        : new Sequential(
            new Conv2d(inp, inp, k, { stride, padding: (k - 1) >> 1, groups: inp, bias: false }),
            new BatchNorm2d(inp),
            new Conv2d(inp, out, 1, { bias: false }),
            new BatchNorm2d(out),
          ),
    );
  }
  forward(x: Tensor): Tensor {
    let h = this.ghost1.forward(x);
    if (this.conv_dw) h = this.bn_dw!.forward(this.conv_dw.forward(h));
    if (this.se) h = this.se.forward(h);
    return F.add(this.ghost2.forward(h), this.shortcut.forward(x));
  }
}

class ConvBnAct extends Module {
  conv: Conv2d;
  bn1: BatchNorm2d;
  constructor(inp: number, out: number, k: number) {
    super();
    this.conv = this.add('conv', new Conv2d(inp, out, k, { padding: k >> 1, bias: false }));
    this.bn1 = this.add('bn1', new BatchNorm2d(out));
  }
  forward(x: Tensor): Tensor {
    return F.relu(this.bn1.forward(this.conv.forward(x)));
  }
}

/** The official cfgs: one inner list per stage; [k, exp, c, se_ratio, stride]. */
const CFGS: [number, number, number, number, number][][] = [
  [[3, 16, 16, 0, 1]],
  [[3, 48, 24, 0, 2]],
  [[3, 72, 24, 0, 1]],
  [[5, 72, 40, 0.25, 2]],
  [[5, 120, 40, 0.25, 1]],
  [[3, 240, 80, 0, 2]],
  [
    [3, 200, 80, 0, 1],
    [3, 184, 80, 0, 1],
    [3, 184, 80, 0, 1],
    [3, 480, 112, 0.25, 1],
    [3, 672, 112, 0.25, 1],
  ],
  [[5, 672, 160, 0.25, 2]],
  [
    [5, 960, 160, 0, 1],
    [5, 960, 160, 0.25, 1],
    [5, 960, 160, 0, 1],
    [5, 960, 160, 0.25, 1],
  ],
];

export class GhostNet extends Module implements Backbone {
  conv_stem: Conv2d;
  bn1: BatchNorm2d;
  blocks: Sequential;
  readonly featureInfo: FeatureInfo[] = [];
  private readonly taps: number[] = [];
  constructor(width = 1) {
    super();
    let c = makeDivisible(16 * width, 4);
    this.conv_stem = this.add('conv_stem', new Conv2d(3, c, 3, { stride: 2, padding: 1, bias: false }));
    this.bn1 = this.add('bn1', new BatchNorm2d(c));
    const stages: Module[] = [];
    let stride = 2;
    CFGS.forEach((stage, i) => {
      if (stage[0]![4] === 2 && stride >= 4) {
        this.taps.push(i - 1);
        this.featureInfo.push({ stride, channels: c });
      }
      stride *= stage[0]![4];
      stages.push(
        new Sequential(
          ...stage.map(([k, exp, out, se, s]) => {
            const o = makeDivisible(out * width, 4);
            const m = new GhostBottleneck(c, makeDivisible(exp * width, 4), o, k, s, se);
            c = o;
            return m;
          }),
        ),
      );
    });
    const last = makeDivisible(960 * width, 4);
    stages.push(new Sequential(new ConvBnAct(c, last, 1)));
    this.blocks = this.add('blocks', new Sequential(...stages));
    this.taps.push(stages.length - 1);
    this.featureInfo.push({ stride, channels: last });
  }
  features(x: Tensor): Tensor[] {
    return runTaps(this.blocks.layers, F.relu(this.bn1.forward(this.conv_stem.forward(x))), this.taps);
  }
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

registerBackbone({
  name: 'ghostnet_1_0',
  family: 'ghostnet',
  description: 'GhostNet 1.0x (official layout; fixed width)',
  build: () => new GhostNet(1),
  // The authors' ghostnet_1x release (and timm's ghostnet_100): conv_head and classifier are the classifier.
  reference: sameNames(
    "the GhostNet authors' ghostnet_1x (ImageNet)",
    ['conv_stem', 'bn1', 'blocks'],
    ['conv_head', 'classifier', 'global_pool'],
  ),
});
