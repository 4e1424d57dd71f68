/**
 * StarNet ("Rewrite the Stars"), exactly as the reference code in seeds 000/001: ConvBN (conv with bias + BN),
 * Block = dw7x7+BN, f1/f2 1x1, ReLU6(x1) * x2, g 1x1+BN, dw7x7, residual with drop path; stem ConvBN 3x3/2 +
 * ReLU6; four stages of a stride-2 ConvBN down-sampler and Blocks. `width` scales base_dim and the stem
 * (make_divisible to 8); `depth` is accepted and unused, as in the reference.
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { BatchNorm2d, Conv2d, DropPath, Module, Sequential, ReLU6 } from '../../engine/nn.js';
import { registerBackbone, sameNames, type Backbone, type FeatureInfo } from '../backbone.js';
import { BN_EPS, BN_MOMENTUM, makeDivisible } from '../common.js';

/** The reference's ConvBN: a conv with bias, then BatchNorm (or not), named conv / bn. */
class ConvBN extends Module {
  conv: Conv2d;
  bn?: BatchNorm2d;
  constructor(cin: number, cout: number, k = 1, stride = 1, padding = 0, groups = 1, withBn = true) {
    super();
    this.conv = this.add('conv', new Conv2d(cin, cout, k, { stride, padding, groups }));
    if (withBn) this.bn = this.add('bn', new BatchNorm2d(cout, BN_EPS, BN_MOMENTUM));
  }
  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this.bn ? this.bn.forward(y) : y;
  }
}

export class StarBlock extends Module {
  dwconv: ConvBN;
  f1: ConvBN;
  f2: ConvBN;
  g: ConvBN;
  dwconv2: ConvBN;
  dropPath: DropPath;
  constructor(dim: number, mlpRatio = 3, dropPath = 0) {
    super();
    this.dwconv = this.add('dwconv', new ConvBN(dim, dim, 7, 1, 3, dim, true));
    this.f1 = this.add('f1', new ConvBN(dim, mlpRatio * dim, 1, 1, 0, 1, false));
    this.f2 = this.add('f2', new ConvBN(dim, mlpRatio * dim, 1, 1, 0, 1, false));
    this.g = this.add('g', new ConvBN(mlpRatio * dim, dim, 1, 1, 0, 1, true));
    this.dwconv2 = this.add('dwconv2', new ConvBN(dim, dim, 7, 1, 3, dim, false));
    this.dropPath = new DropPath(dropPath); // no parameters: not registered, as nn.Identity/DropPath have none
  }
  forward(x: Tensor): Tensor {
    const h = this.dwconv.forward(x);
    const y = F.mul(F.relu6(this.f1.forward(h)), this.f2.forward(h));
    return F.add(x, this.dropPath.forward(this.dwconv2.forward(this.g.forward(y))));
  }
}

export interface StarNetConfig {
  baseDim: number;
  depths: number[];
  mlpRatio: number;
  dropPathRate?: number;
}

export class StarNet extends Module implements Backbone {
  stem: Sequential;
  stages: Sequential;
  readonly featureInfo: FeatureInfo[];
  constructor(cfg: StarNetConfig, width = 0.25) {
    super();
    const baseDim = makeDivisible(Math.trunc(cfg.baseDim * width), 8);
    let inChannel = makeDivisible(Math.trunc(32 * width), 8);
    this.stem = this.add('stem', new Sequential(new ConvBN(3, inChannel, 3, 2, 1), ReLU6()));
    const total = cfg.depths.reduce((a, b) => a + b, 0);
    const rate = cfg.dropPathRate ?? 0;
    const dpr = Array.from({ length: total }, (_, i) => (total > 1 ? (rate * i) / (total - 1) : 0));
    const stages: Module[] = [];
    this.featureInfo = [];
    let cur = 0;
    cfg.depths.forEach((depth, i) => {
      const embed = baseDim * 2 ** i;
      const down = new ConvBN(inChannel, embed, 3, 2, 1);
      inChannel = embed;
      const blocks = Array.from({ length: depth }, (_, j) => new StarBlock(embed, cfg.mlpRatio, dpr[cur + j]!));
      cur += depth;
      stages.push(new Sequential(down, ...blocks));
      this.featureInfo.push({ stride: 2 ** (i + 2), channels: embed });
    });
    this.stages = this.add('stages', new Sequential(...stages));
  }
  features(x: Tensor): Tensor[] {
    let h = this.stem.forward(x);
    return this.stages.layers.map((s) => (h = s.forward(h)));
  }
  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}

const VARIANTS: Record<string, StarNetConfig> = {
  starnet_s1: { baseDim: 24, depths: [2, 2, 8, 3], mlpRatio: 4 },
  starnet_s2: { baseDim: 32, depths: [1, 2, 6, 2], mlpRatio: 4 },
  starnet_s3: { baseDim: 32, depths: [2, 2, 8, 4], mlpRatio: 4 },
  starnet_s4: { baseDim: 32, depths: [3, 3, 12, 5], mlpRatio: 4 },
  starnet_s050: { baseDim: 16, depths: [1, 1, 3, 1], mlpRatio: 3 },
  starnet_s100: { baseDim: 20, depths: [1, 2, 4, 1], mlpRatio: 4 },
  starnet_s150: { baseDim: 24, depths: [1, 2, 4, 2], mlpRatio: 3 },
};

/** The variants with released ImageNet checkpoints (seed 000's model_urls). */
const RELEASED = new Set(['starnet_s1', 'starnet_s2', 'starnet_s3', 'starnet_s4']);

for (const [name, cfg] of Object.entries(VARIANTS)) {
  registerBackbone({
    name,
    family: 'starnet',
    description: `StarNet ${name.slice(8)}: base dim ${cfg.baseDim}, depths [${cfg.depths.join(', ')}], mlp ratio ${cfg.mlpRatio}`,
    build: (o) => new StarNet(cfg, o.width ?? 1),
    // The authors' releases (starnet_s1.pth.tar ... s4) hold the classifier at width 1, under state_dict; the
    // backbone's names are the reference code's, so only the final norm and the linear head are dropped.
    ...(RELEASED.has(name)
      ? {
          reference: sameNames(
            `the StarNet authors' ${name}.pth.tar (ImageNet)`,
            ['stem', 'stages'],
            ['norm', 'head'],
            1,
          ),
        }
      : {}),
  });
}
