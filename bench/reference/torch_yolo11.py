"""PyTorch twin of Starling's YOLO11 detector (scale n) with a StarNet, ShuffleNetV2 or MobileNetV3 backbone, for
the training-speed benchmark (reference only; not part of the product). Ultralytics' blocks written out here
(Conv, C3k2, SPPF, C2PSA, Detect) so the bench needs only Debian's python3-torch and python3-torchvision.

usage: /usr/bin/python3 torch_yolo11.py BACKBONE WEIGHTS.safetensors GRADS_OUT.safetensors ITERS THREADS [simple|full OPT_JSON]
       /usr/bin/python3 torch_yolo11.py --shapes ARCH:BACKBONE:NC ...   (state dict shapes, for the presets' test)
Loads Starling's state dict strictly (same names and shapes = same architecture), the input batch and targets,
computes one step's gradients and writes them, then times ITERS steps.
  simple (default): loss = sum over levels of mean(y^2); a step is forward + backward.
  full: the YOLO loss (torch_yolo_loss.py); a step is forward, loss, backward, gradient clipping, AdamW (three
        groups: decay on weights only) and the EMA update (Ultralytics' ModelEMA ramp), as Starling's trainer does.
"""
import json, math, sys
import torch
import torch.nn as nn
import torchvision
from torch_blocks import StarBlock, ConvBN, load_safetensors, save_safetensors, make_divisible, time_steps


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


def DWConv(c1, c2, k=1, s=1):
    return Conv(c1, c2, k, s, g=math.gcd(c1, c2))


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, k=(3, 3), e=0.5):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_, k[0])
        self.cv2 = Conv(c_, c2, k[1])
        self.add = shortcut and c1 == c2

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3k(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True, e=0.5, k=3):
        super().__init__()
        c_ = int(c2 * e)
        self.cv1 = Conv(c1, c_)
        self.cv2 = Conv(c1, c_)
        self.cv3 = Conv(2 * c_, c2)
        self.m = nn.Sequential(*(Bottleneck(c_, c_, shortcut, k=(k, k), e=1.0) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class C3k2(nn.Module):
    def __init__(self, c1, c2, n=1, c3k=False, e=0.5, shortcut=True):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(C3k(self.c, self.c, 2, shortcut) if c3k else Bottleneck(self.c, self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1 = Conv(c1, c_)
        self.cv2 = Conv(c_ * 4, c2)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.m(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class Attention(nn.Module):
    def __init__(self, dim, num_heads=8, attn_ratio=0.5):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.key_dim = int(self.head_dim * attn_ratio)
        self.scale = self.key_dim ** -0.5
        self.qkv = Conv(dim, dim + self.key_dim * num_heads * 2, 1, act=False)
        self.proj = Conv(dim, dim, 1, act=False)
        self.pe = Conv(dim, dim, 3, 1, g=dim, act=False)

    def forward(self, x):
        B, C, H, W = x.shape
        N = H * W
        q, k, v = self.qkv(x).view(B, self.num_heads, self.key_dim * 2 + self.head_dim, N).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q.transpose(-2, -1) @ k) * self.scale).softmax(dim=-1)
        x = (v @ attn.transpose(-2, -1)).view(B, C, H, W) + self.pe(v.reshape(B, C, H, W))
        return self.proj(x)


class PSABlock(nn.Module):
    def __init__(self, c, attn_ratio=0.5, num_heads=4):
        super().__init__()
        self.attn = Attention(c, attn_ratio=attn_ratio, num_heads=num_heads)
        self.ffn = nn.Sequential(Conv(c, c * 2, 1), Conv(c * 2, c, 1, act=False))

    def forward(self, x):
        x = x + self.attn(x)
        return x + self.ffn(x)


class C2PSA(nn.Module):
    def __init__(self, c1, c2, n=1, e=0.5):
        super().__init__()
        self.c = int(c1 * e)
        self.cv1 = Conv(c1, 2 * self.c)
        self.cv2 = Conv(2 * self.c, c1)
        self.m = nn.Sequential(*(PSABlock(self.c, attn_ratio=0.5, num_heads=self.c // 64) for _ in range(n)))

    def forward(self, x):
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))


class Detect(nn.Module):
    def __init__(self, nc, ch):
        super().__init__()
        c2 = max(16, ch[0] // 4, 64)
        c3 = max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 64, 1)) for x in ch)
        self.cv3 = nn.ModuleList(
            nn.Sequential(nn.Sequential(DWConv(x, x, 3), Conv(x, c3, 1)), nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                          nn.Conv2d(c3, nc, 1)) for x in ch)
        # Ultralytics' DFL: a fixed 1x1 conv holding the bin indices (used when decoding, not in training maps).
        self.dfl = nn.Module()
        self.dfl.conv = nn.Conv2d(16, 1, 1, bias=False).requires_grad_(False)

    def forward(self, xs):
        return [torch.cat((self.cv2[i](x), self.cv3[i](x)), 1) for i, x in enumerate(xs)]


class C2f(nn.Module):
    """YOLOv8's CSP block: two 3x3 bottlenecks per repeat, every intermediate map concatenated."""

    def __init__(self, c1, c2, n=1, shortcut=False, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c)
        self.cv2 = Conv((2 + n) * self.c, c2)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, k=(3, 3), e=1.0) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class DetectV8(Detect):
    """YOLOv8's Detect: the class branch is two plain 3x3 Convs (YOLO11's uses depthwise pairs)."""

    def __init__(self, nc, ch):
        super().__init__(nc, ch)
        c3 = max(ch[0], min(nc, 100))
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for x in ch)


# ---- backbones: four maps at strides 4, 8, 16, 32 ------------------------------------------------------------

class StarNet(nn.Module):
    # (base_dim, depths, mlp_ratio) of each variant, from seed 000's builders (starnet_s1 ... starnet_s150).
    CFG = {'starnet_s1': (24, [2, 2, 8, 3], 4), 'starnet_s2': (32, [1, 2, 6, 2], 4), 'starnet_s3': (32, [2, 2, 8, 4], 4),
           'starnet_s4': (32, [3, 3, 12, 5], 4), 'starnet_s050': (16, [1, 1, 3, 1], 3),
           'starnet_s100': (20, [1, 2, 4, 1], 4), 'starnet_s150': (24, [1, 2, 4, 2], 3)}

    def __init__(self, name, width):
        super().__init__()
        base, depths, mlp = self.CFG[name]
        base = make_divisible(int(base * width), 8)
        cin = make_divisible(int(32 * width), 8)
        self.stem = nn.Sequential(ConvBN(3, cin, 3, 2, 1), nn.ReLU6())
        stages = []
        for i, d in enumerate(depths):
            e = base * 2 ** i
            stages.append(nn.Sequential(ConvBN(cin, e, 3, 2, 1), *(StarBlock(e, mlp) for _ in range(d))))
            cin = e
        self.stages = nn.Sequential(*stages)
        self.channels = [base * 2 ** i for i in range(4)]

    def forward(self, x):
        h = self.stem(x)
        out = []
        for s in self.stages:
            h = s(h)
            out.append(h)
        return out


class ShuffleNetV2(nn.Module):
    def __init__(self, name):
        super().__init__()
        tv = getattr(torchvision.models, name.replace('shufflenetv2', 'shufflenet_v2'))()
        self.conv1, self.maxpool, self.stage2, self.stage3, self.stage4 = tv.conv1, tv.maxpool, tv.stage2, tv.stage3, tv.stage4
        self.channels = [24] + [s[-1].branch2[-3].out_channels * 2 for s in (self.stage2, self.stage3, self.stage4)]

    def forward(self, x):
        p2 = self.maxpool(self.conv1(x))
        p3 = self.stage2(p2)
        p4 = self.stage3(p3)
        return [p2, p3, p4, self.stage4(p4)]


class MobileNetV3(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.features = getattr(torchvision.models, name.replace('mobilenetv3', 'mobilenet_v3'))().features
        # The last layer at each resolution (from stride 4), and the final 1x1 conv: as Starling taps them.
        sizes, x = [], torch.zeros(1, 3, 64, 64)
        with torch.no_grad():
            for layer in self.features:
                x = layer(x)
                sizes.append((x.shape[-1], x.shape[1]))
        self.taps, self.channels = [], []
        for i, (s, c) in enumerate(sizes):
            last = i == len(sizes) - 1
            if (last or sizes[i + 1][0] < s) and 64 // s >= 4:
                self.taps.append(i)
                self.channels.append(c)

    def forward(self, x):
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


def build(backbone, nc=6, arch='yolo11'):
    depth, width, max_ch = (0.5 if arch == 'yolo11' else 0.33), 0.25, 1024  # scale n
    ch = lambda c: make_divisible(min(c, max_ch) * width, 8)
    n = lambda r: max(round(r * depth), 1) if r > 1 else r
    if backbone.startswith('starnet'):
        bb = StarNet(backbone, width)
    elif backbone.startswith('shufflenetv2'):
        bb = ShuffleNetV2(backbone)
    else:
        bb = MobileNetV3(backbone)
    model = nn.Module()
    c = bb.channels
    if arch == 'yolov8':
        # Seed 001's YOLOv8 with a plain backbone: 0 the backbone, 1-4 its maps, SPPF at 5, the v8 neck, Detect at 18.
        model.add_module('0', bb)
        model.add_module('5', SPPF(c[3], ch(1024), 5))
        model.add_module('8', C2f(ch(1024) + c[2], ch(512), n(3)))
        model.add_module('11', C2f(ch(512) + c[1], ch(256), n(3)))
        model.add_module('12', Conv(ch(256), ch(256), 3, 2))
        model.add_module('14', C2f(ch(256) + ch(512), ch(512), n(3)))
        model.add_module('15', Conv(ch(512), ch(512), 3, 2))
        model.add_module('17', C2f(ch(512) + ch(1024), ch(1024), n(3)))
        model.add_module('18', DetectV8(nc, [ch(256), ch(512), ch(1024)]))
        net = nn.Module()
        net.add_module('model', model)
        return net, None
    # Layer indices as Starling numbers them: 0 the backbone, 1-4 its maps, then the YOLO11 neck and head.
    model.add_module('0', bb)
    model.add_module('5', SPPF(c[3], ch(1024), 5))
    model.add_module('6', C2PSA(ch(1024), ch(1024), n(2)))
    model.add_module('9', C3k2(ch(1024) + c[2], ch(512), n(2), False))
    model.add_module('12', C3k2(ch(512) + c[1], ch(256), n(2), False))
    model.add_module('13', Conv(ch(256), ch(256), 3, 2))
    model.add_module('15', C3k2(ch(256) + ch(512), ch(512), n(2), False))
    model.add_module('16', Conv(ch(512), ch(512), 3, 2))
    model.add_module('18', C3k2(ch(512) + ch(1024), ch(1024), n(2), True))
    model.add_module('19', Detect(nc, [ch(256), ch(512), ch(1024)]))
    net = nn.Module()
    net.add_module('model', model)
    up = nn.Upsample(scale_factor=2, mode='nearest')

    def forward(x):
        m = net.model
        p2, p3, p4, p5 = getattr(m, '0')(x)
        p5 = getattr(m, '6')(getattr(m, '5')(p5))
        n4 = getattr(m, '9')(torch.cat((up(p5), p4), 1))
        o3 = getattr(m, '12')(torch.cat((up(n4), p3), 1))
        o4 = getattr(m, '15')(torch.cat((getattr(m, '13')(o3), n4), 1))
        o5 = getattr(m, '18')(torch.cat((getattr(m, '16')(o4), p5), 1))
        return getattr(m, '19')([o3, o4, o5])

    return net, forward


def shapes():
    """--shapes ARCH:BACKBONE:NC ...: each model's state dict as {name: shape} (JSON, one object per spec), so a test
    compares Starling's tensors with this independent build, name by name."""
    out = {}
    for spec in sys.argv[2:]:
        arch, backbone, nc = spec.split(':')
        net, _ = build(backbone, int(nc), arch)
        out[spec] = {k: list(v.shape) for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    print(json.dumps(out))


class ModelEMA:
    """Ultralytics' ModelEMA: d = decay * (1 - exp(-updates / tau)); every float tensor of the state dict."""

    def __init__(self, net, decay, tau):
        self.shadow = {k: v.detach().clone() for k, v in net.state_dict().items() if v.dtype.is_floating_point}
        self.net, self.decay, self.tau, self.updates = net, decay, tau, 0

    @torch.no_grad()
    def update(self):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        for k, v in self.net.state_dict().items():
            if k in self.shadow:
                self.shadow[k].lerp_(v, 1 - d)


def main():
    if sys.argv[1] == '--shapes':
        return shapes()
    backbone, weights, grads_out, iters, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    kind = sys.argv[6] if len(sys.argv) > 6 else 'simple'
    torch.set_num_threads(threads)
    data = load_safetensors(weights)
    x = data.pop('input')
    targets = data.pop('targets', None)
    net, forward = build(backbone)
    missing, unexpected = net.load_state_dict(data, strict=False)
    missing = [m for m in missing if not m.endswith('num_batches_tracked')]
    if missing or unexpected:
        raise SystemExit(f'state dict mismatch: missing {missing[:5]} unexpected {unexpected[:5]}')
    net.train()
    params = sum(p.numel() for p in net.parameters())

    def simple_step():
        net.zero_grad(set_to_none=True)
        loss = sum((y * y).mean() for y in forward(x))
        loss.backward()
        return loss

    step = simple_step
    if kind == 'full':
        from torch_yolo_loss import YoloLoss
        o = json.loads(sys.argv[7])
        criterion = YoloLoss(nc=6, strides=[8, 16, 32])
        decay = [p for n, p in net.named_parameters() if p.ndim > 1]
        norm = [p for n, p in net.named_parameters() if p.ndim == 1 and not n.endswith('.bias')]
        bias = [p for n, p in net.named_parameters() if n.endswith('.bias')]
        opt = torch.optim.AdamW([{'params': decay, 'weight_decay': o['weightDecay']},
                                 {'params': norm, 'weight_decay': 0.0}, {'params': bias, 'weight_decay': 0.0}],
                                lr=o['lr'], betas=(o['momentum'], 0.999))
        ema = ModelEMA(net, o['emaDecay'], o['emaTau'])

        def loss_of():
            net.zero_grad(set_to_none=True)
            loss, _ = criterion(forward(x), targets)
            loss.backward()
            return loss

        def full_step():
            loss = loss_of()
            torch.nn.utils.clip_grad_norm_(net.parameters(), o['clipNorm'])
            opt.step()
            ema.update()
            return loss

        first = loss_of
        step = full_step
    else:
        first = simple_step
    loss = first()
    save_safetensors(grads_out, {k: p.grad for k, p in net.named_parameters() if p.grad is not None})
    print(json.dumps({'loss': float(loss), 'params': params, **time_steps(step, 2, iters)}))


main()
