/**
 * ShuffleNetV2: the torchvision feature extractor (x0.5 / x1.0 / x1.5 / x2.0, parameter names as torchvision's
 * state dict: conv1, stage2-4; its conv5 and fc are the classifier and not part of the extractor), and the
 * seed 002 YOLOv5 variant (conv_bn_relu_maxpool + Shuffle_Block stages 128/256/512, scaled by width).
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { BatchNorm2d, Conv2d, Lambda, Module, ReLU, Sequential } from '../../engine/nn.js';
import { registerBackbone, runTaps, sameNames, type Backbone, type FeatureInfo } from '../backbone.js';
import { makeDivisible, yoloBatchNorms } from '../common.js';

/** torchvision's InvertedResidual (= the seed's Shuffle_Block): two branches, concat, channel shuffle. */
export class InvertedResidual extends Module {
  branch1: Sequential | null = null;
  branch2: Sequential;
  constructor(
    inp: number,
    oup: number,
    readonly stride: number,
  ) {
    super();
    const bf = oup >> 1;
    if (stride === 1 && inp !== bf << 1) throw new Error(`ShuffleNet unit: stride 1 needs in = out (${inp} vs ${oup})`);
    if (stride > 1) {
      this.branch1 = this.add(
        'branch1',
        new Sequential(
          new Conv2d(inp, inp, 3, { stride, padding: 1, groups: inp, bias: false }),
          new BatchNorm2d(inp),
          new Conv2d(inp, bf, 1, { bias: false }),
          new BatchNorm2d(bf),
          ReLU(),
        ),
      );
    }
    this.branch2 = this.add(
      'branch2',
      new Sequential(
        new Conv2d(stride > 1 ? inp : bf, bf, 1, { bias: false }),
        new BatchNorm2d(bf),
        ReLU(),
        new Conv2d(bf, bf, 3, { stride, padding: 1, groups: bf, bias: false }),
        new BatchNorm2d(bf),
        new Conv2d(bf, bf, 1, { bias: false }),
        new BatchNorm2d(bf),
        ReLU(),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    let out: Tensor;
    if (this.stride === 1) {
      const [x1, x2] = F.chunk(x, 2, 1) as [Tensor, Tensor];
      out = F.concat([x1, this.branch2.forward(x2)], 1);
    } else out = F.concat([this.branch1!.forward(x), this.branch2.forward(x)], 1);
    return F.channelShuffle(out, 2);
  }
}

const stage = (inp: number, out: number, repeats: number) =>
  new Sequential(
    new InvertedResidual(inp, out, 2),
    ...Array.from({ length: repeats - 1 }, () => new InvertedResidual(out, out, 1)),
  );

export class ShuffleNetV2 extends Module implements Backbone {
  conv1: Sequential;
  maxpool: Lambda;
  stage2: Sequential;
  stage3: Sequential;
  stage4: Sequential;
  readonly featureInfo: FeatureInfo[];
  constructor(channels: [number, number, number, number]) {
    super();
    const [c0, c2, c3, c4] = channels;
    this.conv1 = this.add(
      'conv1',
      new Sequential(new Conv2d(3, c0, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(c0), ReLU()),
    );
    this.maxpool = new Lambda('MaxPool2d', (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }));
    this.stage2 = this.add('stage2', stage(c0, c2, 4));
    this.stage3 = this.add('stage3', stage(c2, c3, 8));
    this.stage4 = this.add('stage4', stage(c3, c4, 4));
    this.featureInfo = [4, 8, 16, 32].map((stride, i) => ({ stride, channels: channels[i]! }));
  }
  features(x: Tensor): Tensor[] {
    const p2 = this.maxpool.forward(this.conv1.forward(x));
    const p3 = this.stage2.forward(p2);
    const p4 = this.stage3.forward(p3);
    return [p2, p3, p4, this.stage4.forward(p4)];
  }
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

/** Seed 002's conv_bn_relu_maxpool stem. */
class ConvBnReluMaxpool extends Module {
  conv: Sequential;
  constructor(c1: number, c2: number) {
    super();
    this.conv = this.add(
      'conv',
      new Sequential(new Conv2d(c1, c2, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(c2), ReLU()),
    );
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(this.conv.forward(x), 3, { stride: 2, padding: 1 });
  }
}

/** Seed 002's YOLOv5 ShuffleNetV2 backbone: layers 0-6 as in yolov5-shufflenetv2.yaml, scaled by width. */
export class ShuffleNetV2Yolo extends Module implements Backbone {
  readonly layers: Module[];
  readonly featureInfo: FeatureInfo[];
  constructor(width = 1) {
    super();
    const ch = (c: number) => makeDivisible(c * width, 8);
    const spec: [number, number, number][] = [
      [128, 2, 1],
      [128, 1, 3],
      [256, 2, 1],
      [256, 1, 7],
      [512, 2, 1],
      [512, 1, 3],
    ];
    this.layers = [this.add(0, new ConvBnReluMaxpool(3, ch(32)))];
    let c = ch(32);
    spec.forEach(([out, stride, n], i) => {
      // A stride-2 block changes the width; the stride-1 repeats that follow keep it.
      const blocks = Array.from({ length: n }, () => new InvertedResidual(c, ch(out), stride));
      c = ch(out);
      this.layers.push(this.add(i + 1, n > 1 ? new Sequential(...blocks) : blocks[0]!));
    });
    // In YOLOv5 these blocks get initialize_weights' BatchNorm settings, as every layer of the model does.
    yoloBatchNorms(this);
    this.featureInfo = [
      { stride: 4, channels: ch(32) },
      { stride: 8, channels: ch(128) },
      { stride: 16, channels: ch(256) },
      { stride: 32, channels: ch(512) },
    ];
  }
  features(x: Tensor): Tensor[] {
    return runTaps(this.layers, x, [0, 2, 4, 6]);
  }
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

const TORCHVISION: Record<string, [number, number, number, number]> = {
  'x0.5': [24, 48, 96, 192],
  'x1.0': [24, 116, 232, 464],
  'x1.5': [24, 176, 352, 704],
  'x2.0': [24, 244, 488, 976],
};
for (const [mult, ch] of Object.entries(TORCHVISION)) {
  const name = `shufflenetv2_${mult.replace('.', '_')}`;
  registerBackbone({
    name,
    family: 'shufflenetv2',
    description: `ShuffleNetV2 ${mult} (torchvision layout; fixed width)`,
    build: () => new ShuffleNetV2(ch),
    // torchvision's shufflenet_v2_* ImageNet weights: the same names; conv5 and fc are the classifier.
    reference: sameNames(
      `torchvision's shufflenet_v2_${mult.replace('.', '_')} (ImageNet)`,
      ['conv1', 'stage2', 'stage3', 'stage4'],
      ['conv5', 'fc'],
    ),
  });
}
registerBackbone({
  name: 'shufflenetv2_yolov5',
  family: 'shufflenetv2',
  description: 'ShuffleNetV2 blocks in YOLOv5 (seed 002), scaled by width',
  build: (o) => new ShuffleNetV2Yolo(o.width ?? 1),
});
