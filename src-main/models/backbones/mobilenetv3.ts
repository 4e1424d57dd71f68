/**
 * MobileNetV3: the torchvision feature extractor (small / large: `features.*` with Conv2dNormActivation,
 * InvertedResidual, SqueezeExcitation; BatchNorm eps 0.001, momentum 0.01; its classifier is not part of the
 * extractor), and the seed 002 YOLOv5 variant (conv_bn_hswish + MobileNet_Block, SE with Linear layers).
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { BatchNorm2d, Conv2d, Hardsigmoid, Hardswish, Linear, Module, ReLU, Sequential } from '../../engine/nn.js';
import { registerBackbone, runTaps, sameNames, type Backbone, type FeatureInfo } from '../backbone.js';
import { makeDivisible, yoloBatchNorms } from '../common.js';

const bn = (c: number) => new BatchNorm2d(c, 0.001, 0.01);
const act = (hs: boolean) => (hs ? Hardswish() : ReLU());

/** torchvision Conv2dNormActivation: conv (no bias), BN, optional activation; children 0, 1, 2. */
const convNormAct = (
  cin: number,
  cout: number,
  k: number,
  stride = 1,
  groups = 1,
  activation: 'HS' | 'RE' | null = 'HS',
) =>
  new Sequential(
    new Conv2d(cin, cout, k, { stride, padding: (k - 1) >> 1, groups, bias: false }),
    bn(cout),
    ...(activation ? [act(activation === 'HS')] : []),
  );

class SqueezeExcitation extends Module {
  fc1: Conv2d;
  fc2: Conv2d;
  constructor(c: number, squeeze: number) {
    super();
    this.fc1 = this.add('fc1', new Conv2d(c, squeeze, 1));
    this.fc2 = this.add('fc2', new Conv2d(squeeze, c, 1));
  }
  forward(x: Tensor): Tensor {
    return F.mul(x, F.hardsigmoid(this.fc2.forward(F.relu(this.fc1.forward(F.globalAvgPool(x))))));
  }
}

export type BlockCfg = [
  cin: number,
  k: number,
  exp: number,
  cout: number,
  se: boolean,
  act: 'HS' | 'RE',
  stride: number,
];

export class InvertedResidual extends Module {
  block: Sequential;
  readonly residual: boolean;
  constructor([cin, k, exp, cout, se, a, stride]: BlockCfg) {
    super();
    this.residual = stride === 1 && cin === cout;
    const layers: Module[] = [];
    if (exp !== cin) layers.push(convNormAct(cin, exp, 1, 1, 1, a));
    layers.push(convNormAct(exp, exp, k, stride, exp, a));
    if (se) layers.push(new SqueezeExcitation(exp, makeDivisible(exp / 4, 8)));
    layers.push(convNormAct(exp, cout, 1, 1, 1, null));
    this.block = this.add('block', new Sequential(...layers));
  }
  forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    return this.residual ? F.add(x, y) : y;
  }
}

const LARGE: BlockCfg[] = [
  [16, 3, 16, 16, false, 'RE', 1],
  [16, 3, 64, 24, false, 'RE', 2],
  [24, 3, 72, 24, false, 'RE', 1],
  [24, 5, 72, 40, true, 'RE', 2],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 3, 240, 80, false, 'HS', 2],
  [80, 3, 200, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 480, 112, true, 'HS', 1],
  [112, 3, 672, 112, true, 'HS', 1],
  [112, 5, 672, 160, true, 'HS', 2],
  [160, 5, 960, 160, true, 'HS', 1],
  [160, 5, 960, 160, true, 'HS', 1],
];
const SMALL: BlockCfg[] = [
  [16, 3, 16, 16, true, 'RE', 2],
  [16, 3, 72, 24, false, 'RE', 2],
  [24, 3, 88, 24, false, 'RE', 1],
  [24, 5, 96, 40, true, 'HS', 2],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 120, 48, true, 'HS', 1],
  [48, 5, 144, 48, true, 'HS', 1],
  [48, 5, 288, 96, true, 'HS', 2],
  [96, 5, 576, 96, true, 'HS', 1],
  [96, 5, 576, 96, true, 'HS', 1],
];

export class MobileNetV3 extends Module implements Backbone {
  features_: Sequential;
  readonly featureInfo: FeatureInfo[];
  /** Indices into `features` whose outputs are the stride 4/8/16/32 maps. */
  private readonly taps: number[];
  constructor(cfg: BlockCfg[]) {
    super();
    const last = cfg.at(-1)![3];
    const layers: Module[] = [
      convNormAct(3, 16, 3, 2),
      ...cfg.map((c) => new InvertedResidual(c)),
      convNormAct(last, 6 * last, 1),
    ];
    this.features_ = this.add('features', new Sequential(...layers));
    // The last layer of each resolution: before every stride-2 block, and the final 1x1 conv.
    let stride = 2;
    const taps: number[] = [];
    const info: FeatureInfo[] = [];
    cfg.forEach((c, i) => {
      if (c[6] === 2 && stride >= 4) {
        taps.push(i); // features[i] is the last at `stride`
        info.push({ stride, channels: cfg[i - 1]![3] });
      }
      stride *= c[6];
    });
    taps.push(layers.length - 1);
    info.push({ stride, channels: 6 * last });
    this.taps = taps;
    this.featureInfo = info;
  }
  features(x: Tensor): Tensor[] {
    return runTaps(this.features_.layers, x, this.taps);
  }
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

// ---- seed 002: YOLOv5 MobileNetV3-small ------------------------------------------------------------
class SELayer extends Module {
  fc: Sequential;
  constructor(c: number, reduction = 4) {
    super();
    this.fc = this.add(
      'fc',
      new Sequential(
        new Linear(c, Math.floor(c / reduction)),
        ReLU(),
        new Linear(Math.floor(c / reduction), c),
        Hardsigmoid(),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    const [b, c] = x.shape as [number, number];
    const y = this.fc.forward(F.reshape(F.globalAvgPool(x), [b, c]));
    return F.mul(x, F.reshape(y, [b, c, 1, 1]));
  }
}

class ConvBnHswish extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(c1: number, c2: number, stride: number) {
    super();
    this.conv = this.add('conv', new Conv2d(c1, c2, 3, { stride, padding: 1, bias: false }));
    this.bn = this.add('bn', new BatchNorm2d(c2));
  }
  forward(x: Tensor): Tensor {
    return F.hardswish(this.bn.forward(this.conv.forward(x)));
  }
}

/** Seed 002's MobileNet_Block: note the SE sits before the activation in the expanding form, as written. */
class MobileNetBlock extends Module {
  conv: Sequential;
  readonly identity: boolean;
  constructor(inp: number, oup: number, hidden: number, k: number, stride: number, se: boolean, hs: boolean) {
    super();
    this.identity = stride === 1 && inp === oup;
    const a = () => (hs ? Hardswish() : ReLU());
    const none = () => new Sequential();
    const dw = () => new Conv2d(hidden, hidden, k, { stride, padding: (k - 1) >> 1, groups: hidden, bias: false });
    this.conv = this.add(
      'conv',
      inp === hidden
        ? new Sequential(
            dw(),
            new BatchNorm2d(hidden),
            a(),
            se ? new SELayer(hidden) : none(),
            new Conv2d(hidden, oup, 1, { bias: false }),
            new BatchNorm2d(oup),
          )
        : new Sequential(
            new Conv2d(inp, hidden, 1, { bias: false }),
            new BatchNorm2d(hidden),
            a(),
            dw(),
            new BatchNorm2d(hidden),
            se ? new SELayer(hidden) : none(),
            a(),
            new Conv2d(hidden, oup, 1, { bias: false }),
            new BatchNorm2d(oup),
          ),
    );
  }
  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this.identity ? F.add(x, y) : y;
  }
}

/** yolov5-mobilenetv3-small.yaml layers 0-11: [out, hidden, k, stride, se, hs], channels scaled by width. */
export class MobileNetV3Yolo extends Module implements Backbone {
  readonly layers: Module[];
  readonly featureInfo: FeatureInfo[];
  constructor(width = 1) {
    super();
    const ch = (c: number) => makeDivisible(c * width, 8);
    const spec: [number, number, number, number, number, number][] = [
      [16, 16, 3, 2, 1, 0],
      [24, 72, 3, 2, 0, 0],
      [24, 88, 3, 1, 0, 0],
      [40, 96, 5, 2, 1, 1],
      [40, 240, 5, 1, 1, 1],
      [40, 240, 5, 1, 1, 1],
      [48, 120, 5, 1, 1, 1],
      [48, 144, 5, 1, 1, 1],
      [96, 288, 5, 2, 1, 1],
      [96, 576, 5, 1, 1, 1],
      [96, 576, 5, 1, 1, 1],
    ];
    let c = ch(16);
    this.layers = [this.add(0, new ConvBnHswish(3, c, 2))];
    spec.forEach(([out, hidden, k, s, se, hs], i) => {
      // YOLOv5 scales the output channels; the seed's hidden sizes are absolute.
      this.layers.push(this.add(i + 1, new MobileNetBlock(c, ch(out), hidden, k, s, !!se, !!hs)));
      c = ch(out);
    });
    // In YOLOv5 these blocks get initialize_weights' BatchNorm settings, as every layer of the model does.
    yoloBatchNorms(this);
    this.featureInfo = [
      { stride: 4, channels: ch(16) },
      { stride: 8, channels: ch(24) },
      { stride: 16, channels: ch(48) },
      { stride: 32, channels: ch(96) },
    ];
  }
  features(x: Tensor): Tensor[] {
    return runTaps(this.layers, x, [1, 3, 8, 11]);
  }
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

registerBackbone({
  name: 'mobilenetv3_large',
  family: 'mobilenetv3',
  description: 'MobileNetV3-Large (torchvision layout; fixed width)',
  build: () => new MobileNetV3(LARGE),
  reference: sameNames("torchvision's mobilenet_v3_large (ImageNet)", ['features'], ['classifier']),
});
registerBackbone({
  name: 'mobilenetv3_small',
  family: 'mobilenetv3',
  description: 'MobileNetV3-Small (torchvision layout; fixed width)',
  build: () => new MobileNetV3(SMALL),
  reference: sameNames("torchvision's mobilenet_v3_small (ImageNet)", ['features'], ['classifier']),
});
registerBackbone({
  name: 'mobilenetv3_small_yolov5',
  family: 'mobilenetv3',
  description: 'MobileNetV3-Small blocks in YOLOv5 (seed 002), scaled by width',
  build: (o) => new MobileNetV3Yolo(o.width ?? 1),
});
