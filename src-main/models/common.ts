/**
 * Ultralytics building blocks (Conv, DWConv, Bottleneck, C2f, C3, GhostConv, GhostBottleneck, C3Ghost (YOLOv5's),
 * C3k, C3k2, SPPF, Attention, PSABlock, C2PSA),
 * written with the engine's nn modules under Ultralytics' attribute names, so a detector's state dict names
 * match `model.<i>.<...>` of the Ultralytics model layer for layer.
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/ir.js';
import { BatchNorm2d, Conv2d, Module, Sequential } from '../engine/nn.js';

/** Ultralytics sets every BatchNorm to eps 1e-3, momentum 0.03 (initialize_weights). */
export const BN_EPS = 1e-3;
export const BN_MOMENTUM = 0.03;

/** YOLOv5's and Ultralytics' initialize_weights for BatchNorm: every one under `root` to eps 1e-3, momentum 0.03. */
export function yoloBatchNorms(root: Module): void {
  const visit = (m: Module) => {
    if (m instanceof BatchNorm2d) [m.eps, m.momentum] = [BN_EPS, BN_MOMENTUM];
    for (const [, c] of m.children()) visit(c);
  };
  visit(root);
}

export function makeDivisible(v: number, divisor = 8, minValue?: number): number {
  const r = Math.max(minValue ?? divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  return r < 0.9 * v ? r + divisor : r;
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** Conv2d (no bias) + BatchNorm2d + SiLU (or no activation). */
export class Conv extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(
    c1: number,
    c2: number,
    k = 1,
    s = 1,
    readonly o: { g?: number; d?: number; act?: boolean; p?: number } = {},
  ) {
    super();
    const d = o.d ?? 1;
    // autopad, unless the yaml gives the padding (YOLOv5's stem: Conv(64, 6, 2, 2)).
    const pad = o.p ?? Math.floor((d * (k - 1) + 1) / 2);
    this.conv = this.add(
      'conv',
      new Conv2d(c1, c2, k, { stride: s, padding: pad, groups: o.g ?? 1, dilation: d, bias: false }),
    );
    this.bn = this.add('bn', new BatchNorm2d(c2, BN_EPS, BN_MOMENTUM));
  }
  forward(x: Tensor): Tensor {
    const y = this.bn.forward(this.conv.forward(x));
    return this.o.act === false ? y : F.silu(y);
  }
}

/** Depthwise Conv: groups = gcd(c1, c2). */
export const DWConv = (c1: number, c2: number, k = 1, s = 1, act = true) =>
  new Conv(c1, c2, k, s, { g: gcd(c1, c2), act });

export class Bottleneck extends Module {
  cv1: Conv;
  cv2: Conv;
  readonly shortcut: boolean;
  constructor(c1: number, c2: number, shortcut = true, g = 1, k: [number, number] = [3, 3], e = 0.5) {
    super();
    const c = Math.floor(c2 * e);
    this.cv1 = this.add('cv1', new Conv(c1, c, k[0], 1));
    this.cv2 = this.add('cv2', new Conv(c, c2, k[1], 1, { g }));
    this.shortcut = shortcut && c1 === c2;
  }
  forward(x: Tensor): Tensor {
    const y = this.cv2.forward(this.cv1.forward(x));
    return this.shortcut ? F.add(x, y) : y;
  }
}

/** A ModuleList-like container (registered as 0, 1, ...). */
export class ModuleList extends Module {
  readonly items: Module[];
  constructor(items: Module[]) {
    super();
    this.items = items.map((m, i) => this.add(i, m));
  }
  forward(): Tensor {
    throw new Error('ModuleList has no forward');
  }
}

export class C3 extends Module {
  cv1: Conv;
  cv2: Conv;
  cv3: Conv;
  m: Sequential;
  constructor(c1: number, c2: number, n = 1, shortcut = true, g = 1, e = 0.5, inner?: (c: number) => Module) {
    super();
    const c = Math.floor(c2 * e);
    this.cv1 = this.add('cv1', new Conv(c1, c, 1, 1));
    this.cv2 = this.add('cv2', new Conv(c1, c, 1, 1));
    this.cv3 = this.add('cv3', new Conv(2 * c, c2, 1));
    const make = inner ?? ((ch: number) => new Bottleneck(ch, ch, shortcut, g, [1, 3], 1.0));
    this.m = this.add('m', new Sequential(...Array.from({ length: n }, () => make(c))));
  }
  forward(x: Tensor): Tensor {
    return this.cv3.forward(F.concat([this.m.forward(this.cv1.forward(x)), this.cv2.forward(x)], 1));
  }
}

/** YOLOv5's GhostConv: half the channels by a Conv, the other half by a cheap 5x5 depthwise Conv of those. */
export class GhostConv extends Module {
  cv1: Conv;
  cv2: Conv;
  constructor(c1: number, c2: number, k = 1, s = 1, g = 1, act = true) {
    super();
    const c = Math.floor(c2 / 2);
    this.cv1 = this.add('cv1', new Conv(c1, c, k, s, { g, act }));
    this.cv2 = this.add('cv2', new Conv(c, c, 5, 1, { g: c, act }));
  }
  forward(x: Tensor): Tensor {
    const y = this.cv1.forward(x);
    return F.concat([y, this.cv2.forward(y)], 1);
  }
}

/**
 * YOLOv5's GhostBottleneck: GhostConv, a depthwise Conv when strided, GhostConv (linear); plus the input, or a
 * strided shortcut when s = 2. The body is `conv.0`, `conv.1`, `conv.2` as in YOLOv5, where `conv.1` is an
 * nn.Identity with no tensors when not strided.
 */
export class GhostBottleneck extends Module {
  readonly body: Module[];
  shortcut: Sequential | null;
  constructor(c1: number, c2: number, k = 3, s = 1) {
    super();
    const c = Math.floor(c2 / 2);
    const conv = this.add('conv', new ModuleList([]));
    this.body = [conv.add(0, new GhostConv(c1, c, 1, 1))];
    if (s === 2) this.body.push(conv.add(1, DWConv(c, c, k, s, false)));
    this.body.push(conv.add(2, new GhostConv(c, c2, 1, 1, 1, false)));
    this.shortcut =
      s === 2
        ? this.add('shortcut', new Sequential(DWConv(c1, c1, k, s, false), new Conv(c1, c2, 1, 1, { act: false })))
        : null;
  }
  forward(x: Tensor): Tensor {
    const y = this.body.reduce((h, m) => m.forward(h), x);
    return F.add(y, this.shortcut ? this.shortcut.forward(x) : x);
  }
}

/** YOLOv5's C3Ghost: C3 with GhostBottlenecks (which have no shortcut switch: the flag is unused, as there). */
export class C3Ghost extends C3 {
  constructor(c1: number, c2: number, n = 1, shortcut = true, g = 1, e = 0.5) {
    super(c1, c2, n, shortcut, g, e, (c) => new GhostBottleneck(c, c));
  }
}

/** C3 with k x k bottlenecks (YOLO11). */
export class C3k extends C3 {
  constructor(c1: number, c2: number, n = 1, shortcut = true, g = 1, e = 0.5, k = 3) {
    super(c1, c2, n, shortcut, g, e, (c) => new Bottleneck(c, c, shortcut, g, [k, k], 1.0));
  }
}

export class C2f extends Module {
  readonly c: number;
  cv1: Conv;
  cv2: Conv;
  m: ModuleList;
  constructor(c1: number, c2: number, n = 1, shortcut = false, g = 1, e = 0.5, inner?: (c: number) => Module) {
    super();
    this.c = Math.floor(c2 * e);
    this.cv1 = this.add('cv1', new Conv(c1, 2 * this.c, 1, 1));
    this.cv2 = this.add('cv2', new Conv((2 + n) * this.c, c2, 1));
    const make = inner ?? ((ch: number) => new Bottleneck(ch, ch, shortcut, g, [3, 3], 1.0));
    this.m = this.add('m', new ModuleList(Array.from({ length: n }, () => make(this.c))));
  }
  forward(x: Tensor): Tensor {
    const y = F.chunk(this.cv1.forward(x), 2, 1);
    for (const m of this.m.items) y.push(m.forward(y[y.length - 1]!));
    return this.cv2.forward(F.concat(y, 1));
  }
}

/** YOLO11's C2f variant: C3k blocks (c3k) or plain bottlenecks (e = 0.5). */
export class C3k2 extends C2f {
  constructor(c1: number, c2: number, n = 1, c3k = false, e = 0.5, g = 1, shortcut = true) {
    super(c1, c2, n, shortcut, g, e, (c) => (c3k ? new C3k(c, c, 2, shortcut, g) : new Bottleneck(c, c, shortcut, g)));
  }
}

export class SPPF extends Module {
  cv1: Conv;
  cv2: Conv;
  constructor(
    c1: number,
    c2: number,
    readonly k = 5,
  ) {
    super();
    const c = Math.floor(c1 / 2);
    this.cv1 = this.add('cv1', new Conv(c1, c, 1, 1));
    this.cv2 = this.add('cv2', new Conv(c * 4, c2, 1, 1));
  }
  forward(x: Tensor): Tensor {
    const y = [this.cv1.forward(x)];
    for (let i = 0; i < 3; i++) y.push(F.maxPool2d(y[i]!, this.k, { stride: 1, padding: this.k >> 1 }));
    return this.cv2.forward(F.concat(y, 1));
  }
}

/** Multi-head self-attention over spatial positions, with a depthwise positional encoding (YOLO11). */
export class Attention extends Module {
  readonly headDim: number;
  readonly keyDim: number;
  qkv: Conv;
  proj: Conv;
  pe: Conv;
  constructor(
    readonly dim: number,
    readonly numHeads = 8,
    attnRatio = 0.5,
  ) {
    super();
    this.headDim = Math.floor(dim / numHeads);
    this.keyDim = Math.floor(this.headDim * attnRatio);
    const h = dim + this.keyDim * numHeads * 2;
    this.qkv = this.add('qkv', new Conv(dim, h, 1, 1, { act: false }));
    this.proj = this.add('proj', new Conv(dim, dim, 1, 1, { act: false }));
    this.pe = this.add('pe', new Conv(dim, dim, 3, 1, { g: dim, act: false }));
  }
  forward(x: Tensor): Tensor {
    const [b, c, h, w] = x.shape as [number, number, number, number];
    const n = h * w;
    const qkv = F.reshape(this.qkv.forward(x), [b, this.numHeads, this.keyDim * 2 + this.headDim, n]);
    const [q, k, v] = F.split(qkv, [this.keyDim, this.keyDim, this.headDim], 2) as [Tensor, Tensor, Tensor];
    const attn = F.softmax(F.mul(F.matmul(F.transpose(q, [0, 1, 3, 2]), k), this.keyDim ** -0.5), -1);
    const out = F.reshape(F.matmul(v, F.transpose(attn, [0, 1, 3, 2])), [b, c, h, w]);
    return this.proj.forward(F.add(out, this.pe.forward(F.reshape(v, [b, c, h, w]))));
  }
}

export class PSABlock extends Module {
  attn: Attention;
  ffn: Sequential;
  constructor(c: number, attnRatio = 0.5, numHeads = 4) {
    super();
    this.attn = this.add('attn', new Attention(c, numHeads, attnRatio));
    this.ffn = this.add('ffn', new Sequential(new Conv(c, c * 2, 1), new Conv(c * 2, c, 1, 1, { act: false })));
  }
  forward(x: Tensor): Tensor {
    const y = F.add(x, this.attn.forward(x));
    return F.add(y, this.ffn.forward(y));
  }
}

export class C2PSA extends Module {
  readonly c: number;
  cv1: Conv;
  cv2: Conv;
  m: Sequential;
  constructor(c1: number, c2: number, n = 1, e = 0.5) {
    super();
    if (c1 !== c2) throw new Error(`C2PSA needs c1 == c2, got ${c1} and ${c2}`);
    this.c = Math.floor(c1 * e);
    this.cv1 = this.add('cv1', new Conv(c1, 2 * this.c, 1, 1));
    this.cv2 = this.add('cv2', new Conv(2 * this.c, c1, 1));
    this.m = this.add(
      'm',
      new Sequential(...Array.from({ length: n }, () => new PSABlock(this.c, 0.5, Math.floor(this.c / 64)))),
    );
  }
  forward(x: Tensor): Tensor {
    const [a, b] = F.split(this.cv1.forward(x), [this.c, this.c], 1) as [Tensor, Tensor];
    return this.cv2.forward(F.concat([a, this.m.forward(b)], 1));
  }
}
