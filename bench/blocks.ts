/**
 * The three building blocks the engine benchmark trains, written with the engine's nn modules and named
 * exactly like their PyTorch twins in reference/torch_blocks.py (so one state dict loads into both).
 */
import * as F from '../src-main/engine/functional.js';
import type { Tensor } from '../src-main/engine/ir.js';
import { BatchNorm2d, Conv2d, Module, Sequential, ReLU, Lambda } from '../src-main/engine/nn.js';

const convBn = (cin: number, cout: number, k: number, o: { stride?: number; groups?: number; bias?: boolean } = {}) =>
  new Sequential(
    new Conv2d(cin, cout, k, {
      stride: o.stride ?? 1,
      padding: (k - 1) >> 1,
      groups: o.groups ?? 1,
      bias: o.bias ?? false,
    }),
    new BatchNorm2d(cout),
  );

/** StarNet Block (seed 000): dw7x7+BN, f1/f2 1x1, relu6(x1)*x2, g 1x1+BN, dw7x7, residual. */
export class StarBlock extends Module {
  dwconv: Sequential;
  f1: Conv2d;
  f2: Conv2d;
  g: Sequential;
  dwconv2: Conv2d;
  constructor(dim: number, mlpRatio = 3) {
    super();
    this.dwconv = this.add('dwconv', convBn(dim, dim, 7, { groups: dim, bias: true }));
    this.f1 = this.add('f1', new Conv2d(dim, mlpRatio * dim, 1));
    this.f2 = this.add('f2', new Conv2d(dim, mlpRatio * dim, 1));
    this.g = this.add('g', convBn(mlpRatio * dim, dim, 1, { bias: true }));
    this.dwconv2 = this.add('dwconv2', new Conv2d(dim, dim, 7, { padding: 3, groups: dim }));
  }
  forward(x: Tensor): Tensor {
    const h = this.dwconv.forward(x);
    const y = F.mul(F.relu6(this.f1.forward(h)), this.f2.forward(h));
    return F.add(x, this.dwconv2.forward(this.g.forward(y)));
  }
}

/** torchvision ShuffleNetV2 InvertedResidual. */
export class ShuffleUnit extends Module {
  branch1: Sequential | null;
  branch2: Sequential;
  constructor(
    inp: number,
    oup: number,
    readonly stride: number,
  ) {
    super();
    const bf = oup / 2;
    this.branch1 =
      stride > 1
        ? this.add(
            'branch1',
            new Sequential(
              new Conv2d(inp, inp, 3, { stride, padding: 1, groups: inp, bias: false }),
              new BatchNorm2d(inp),
              new Conv2d(inp, bf, 1, { bias: false }),
              new BatchNorm2d(bf),
              ReLU(),
            ),
          )
        : null;
    const b2in = stride > 1 ? inp : bf;
    this.branch2 = this.add(
      'branch2',
      new Sequential(
        new Conv2d(b2in, bf, 1, { bias: false }),
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
      const [x1, x2] = F.chunk(x, 2, 1);
      out = F.concat([x1!, this.branch2.forward(x2!)], 1);
    } else out = F.concat([this.branch1!.forward(x), this.branch2.forward(x)], 1);
    return F.channelShuffle(out, 2);
  }
}

/** torchvision's _make_divisible. */
function makeDivisible(v: number, d = 8): number {
  const r = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return r < 0.9 * v ? r + d : r;
}

/** torchvision SqueezeExcitation with hardsigmoid gate. */
class SqueezeExcitation extends Module {
  fc1: Conv2d;
  fc2: Conv2d;
  constructor(c: number, squeeze: number) {
    super();
    this.fc1 = this.add('fc1', new Conv2d(c, squeeze, 1));
    this.fc2 = this.add('fc2', new Conv2d(squeeze, c, 1));
  }
  forward(x: Tensor): Tensor {
    const s = F.hardsigmoid(this.fc2.forward(F.relu(this.fc1.forward(F.globalAvgPool(x)))));
    return F.mul(x, s);
  }
}

/** torchvision MobileNetV3 InvertedResidual with SE and hardswish. */
export class MBv3Block extends Module {
  block: Sequential;
  constructor(
    readonly inp: number,
    exp: number,
    readonly out: number,
    k: number,
    readonly stride: number,
  ) {
    super();
    const hs = () => new Lambda('Hardswish', F.hardswish);
    const layers: Module[] = [];
    if (exp !== inp)
      layers.push(new Sequential(new Conv2d(inp, exp, 1, { bias: false }), new BatchNorm2d(exp, 0.001, 0.01), hs()));
    layers.push(
      new Sequential(
        new Conv2d(exp, exp, k, { stride, padding: (k - 1) >> 1, groups: exp, bias: false }),
        new BatchNorm2d(exp, 0.001, 0.01),
        hs(),
      ),
    );
    layers.push(new SqueezeExcitation(exp, makeDivisible(exp / 4)));
    layers.push(new Sequential(new Conv2d(exp, out, 1, { bias: false }), new BatchNorm2d(out, 0.001, 0.01)));
    this.block = this.add('block', new Sequential(...layers));
  }
  forward(x: Tensor): Tensor {
    const y = this.block.forward(x);
    return this.stride === 1 && this.inp === this.out ? F.add(x, y) : y;
  }
}
