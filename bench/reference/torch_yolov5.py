"""PyTorch twin of Starling's YOLOv5 models and loss (reference only; not part of the product), written from
YOLOv5 v6/v7's yolov5s.yaml, models/hub/yolov5s-ghost.yaml, models/common.py (Conv, C3, SPPF, GhostConv,
GhostBottleneck, C3Ghost), Detect and utils/loss.py ComputeLoss, so tests need only Debian's python3-torch.

usage: /usr/bin/python3 torch_yolov5.py --shapes SPEC ...   SPEC = ARCH:SCALE:BACKBONE:NC, e.g. yolov5:s:yolov5:80
         prints {spec: {name: shape}} of each model's state dict (Starling's names: model.<i>...). The plain
         backbones are seed 002's ShuffleNetV2 and MobileNetV3-Small blocks (from the seed's code) and
         torchvision's MobileNetV3-Large, each as layer 0.
       /usr/bin/python3 torch_yolov5.py --loss CASE.json
         CASE: {nc, imgsz, strides, anchors (pixels, per level), preds (per level [B, na, H, W, 5+nc]),
         targets [[image, class, x, y, w, h] normalized]}; prints {loss, lbox, lobj, lcls (after gains),
         grads (per level, d loss / d preds)} as ComputeLoss computes them with hyp.scratch-low.
"""
import json, math, sys
import torch
import torch.nn as nn


class Conv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


def DWConv(c1, c2, k=1, s=1, act=True):
    return Conv(c1, c2, k, s, g=math.gcd(c1, c2), act=act)


class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True):
        super().__init__()
        self.cv1 = Conv(c1, c2, 1, 1)
        self.cv2 = Conv(c2, c2, 3, 1)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        return x + self.cv2(self.cv1(x)) if self.add else self.cv2(self.cv1(x))


class C3(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True, ghost=False):
        super().__init__()
        c_ = int(c2 * 0.5)
        self.cv1, self.cv2, self.cv3 = Conv(c1, c_), Conv(c1, c_), Conv(2 * c_, c2)
        self.m = nn.Sequential(*(GhostBottleneck(c_, c_) if ghost else Bottleneck(c_, c_, shortcut) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1, self.cv2 = Conv(c1, c_), Conv(c_ * 4, c2)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class GhostConv(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, act=True):
        super().__init__()
        c_ = c2 // 2
        self.cv1 = Conv(c1, c_, k, s, act=act)
        self.cv2 = Conv(c_, c_, 5, 1, g=c_, act=act)

    def forward(self, x):
        y = self.cv1(x)
        return torch.cat((y, self.cv2(y)), 1)


class GhostBottleneck(nn.Module):
    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        c_ = c2 // 2
        self.conv = nn.Sequential(GhostConv(c1, c_, 1, 1), DWConv(c_, c_, k, s, act=False) if s == 2 else nn.Identity(),
                                  GhostConv(c_, c2, 1, 1, act=False))
        self.shortcut = (nn.Sequential(DWConv(c1, c1, k, s, act=False), Conv(c1, c2, 1, 1, act=False))
                         if s == 2 else nn.Identity())

    def forward(self, x):
        return self.conv(x) + self.shortcut(x)


# ---- seed 002's backbones, from the seed's own code (conv_bn_relu_maxpool, Shuffle_Block; conv_bn_hswish,
# MobileNet_Block, SELayer), with YOLOv5's initialize_weights BatchNorm settings; torchvision's MobileNetV3-Large.
def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.03)


class ConvBnReluMaxpool(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(c1, c2, 3, 2, 1, bias=False), bn(c2), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(3, 2, 1)


class ShuffleBlock(nn.Module):
    def __init__(self, inp, oup, stride):
        super().__init__()
        bf = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), bn(inp),
                                         nn.Conv2d(inp, bf, 1, bias=False), bn(bf), nn.ReLU(inplace=True))
        self.branch2 = nn.Sequential(nn.Conv2d(inp if stride > 1 else bf, bf, 1, bias=False), bn(bf),
                                     nn.ReLU(inplace=True), nn.Conv2d(bf, bf, 3, stride, 1, groups=bf, bias=False),
                                     bn(bf), nn.Conv2d(bf, bf, 1, bias=False), bn(bf), nn.ReLU(inplace=True))


def seed002_shufflenet():
    """yolov5-shufflenetv2.yaml layers 0-6 (width 1.0): the stem, then Shuffle_Block [out, stride] x n."""
    layers, c = [ConvBnReluMaxpool(3, 32)], 32
    for out, stride, n in [(128, 2, 1), (128, 1, 3), (256, 2, 1), (256, 1, 7), (512, 2, 1), (512, 1, 3)]:
        blocks = [ShuffleBlock(c, out, stride) for _ in range(n)]
        layers.append(nn.Sequential(*blocks) if n > 1 else blocks[0])
        c = out
    return nn.Sequential(*layers), (128, 256, 512)


class SELayer(nn.Module):
    def __init__(self, c, reduction=4):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(c, c // reduction), nn.ReLU(inplace=True), nn.Linear(c // reduction, c),
                                nn.Hardsigmoid())


class ConvBnHswish(nn.Module):
    def __init__(self, c1, c2, stride):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 3, stride, 1, bias=False)
        self.bn = bn(c2)


class MobileNetBlock(nn.Module):
    def __init__(self, inp, oup, hidden, k, stride, use_se, use_hs):
        super().__init__()
        act = lambda: nn.Hardswish() if use_hs else nn.ReLU(inplace=True)
        dw = lambda: nn.Conv2d(hidden, hidden, k, stride, (k - 1) // 2, groups=hidden, bias=False)
        if inp == hidden:
            self.conv = nn.Sequential(dw(), bn(hidden), act(), SELayer(hidden) if use_se else nn.Sequential(),
                                      nn.Conv2d(hidden, oup, 1, bias=False), bn(oup))
        else:
            self.conv = nn.Sequential(nn.Conv2d(inp, hidden, 1, bias=False), bn(hidden), act(), dw(), bn(hidden),
                                      SELayer(hidden) if use_se else nn.Sequential(), act(),
                                      nn.Conv2d(hidden, oup, 1, bias=False), bn(oup))


def seed002_mobilenet_small():
    """yolov5-mobilenetv3-small.yaml layers 0-11 (width 1.0): MobileNet_Block [out, hidden, k, s, se, hs]."""
    spec = [[16, 16, 3, 2, 1, 0], [24, 72, 3, 2, 0, 0], [24, 88, 3, 1, 0, 0], [40, 96, 5, 2, 1, 1],
            [40, 240, 5, 1, 1, 1], [40, 240, 5, 1, 1, 1], [48, 120, 5, 1, 1, 1], [48, 144, 5, 1, 1, 1],
            [96, 288, 5, 2, 1, 1], [96, 576, 5, 1, 1, 1], [96, 576, 5, 1, 1, 1]]
    layers, c = [ConvBnHswish(3, 16, 2)], 16
    for out, hidden, k, st, se, hs in spec:
        layers.append(MobileNetBlock(c, out, hidden, k, st, se, hs))
        c = out
    return nn.Sequential(*layers), (24, 48, 96)


def torchvision_mobilenet_large():
    import torchvision
    net = nn.Module()
    net.features = torchvision.models.mobilenet_v3_large().features
    return net, (40, 112, 960)


PLAIN = {'shufflenetv2_yolov5': seed002_shufflenet, 'mobilenetv3_small_yolov5': seed002_mobilenet_small,
         'mobilenetv3_large': torchvision_mobilenet_large}

ANCHORS = [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]]
SCALES = {'n': (0.33, 0.25), 's': (0.33, 0.5), 'm': (0.67, 0.75), 'l': (1.0, 1.0), 'x': (1.33, 1.25)}


class Detect(nn.Module):
    def __init__(self, nc, ch, na=3):
        super().__init__()
        self.register_buffer('anchors', torch.tensor(ANCHORS).float().view(len(ch), -1, 2))  # as YOLOv5's (pixels here)
        self.m = nn.ModuleList(nn.Conv2d(x, (nc + 5) * na, 1) for x in ch)


def build(arch, scale, backbone, nc):
    """The model as Starling numbers it: YOLOv5's own backbones take layers 0-9 (as yolov5s.yaml); a plain backbone
    is layer 0 with its maps at 1-4. Then the head section and Detect."""
    gd, gw = SCALES[scale]
    ch = lambda c: math.ceil(c * gw / 8) * 8
    n = lambda r: max(round(r * gd), 1) if r > 1 else r
    ghost = arch == 'yolov5-ghost'
    down = lambda c1, c2, k=3, s=2: GhostConv(c1, c2, k, s) if ghost else Conv(c1, c2, k, s)
    layers = {}
    if backbone in ('yolov5', 'yolov5_ghost'):
        g = backbone == 'yolov5_ghost'
        d = lambda c1, c2: GhostConv(c1, c2, 3, 2) if g else Conv(c1, c2, 3, 2)
        seq = [Conv(3, ch(64), 6, 2, 2), d(ch(64), ch(128)), C3(ch(128), ch(128), n(3), ghost=g),
               d(ch(128), ch(256)), C3(ch(256), ch(256), n(6), ghost=g), d(ch(256), ch(512)),
               C3(ch(512), ch(512), n(9), ghost=g), d(ch(512), ch(1024)), C3(ch(1024), ch(1024), n(3), ghost=g),
               SPPF(ch(1024), ch(1024), 5)]
        layers.update({str(i): m for i, m in enumerate(seq)})
        c3, c4, c5, i = ch(256), ch(512), ch(1024), 10
    else:
        # A plain backbone is layer 0, its maps 1-4 (the seeds' way, as Starling numbers it).
        bb, (c3, c4, c5) = PLAIN[backbone]()
        layers['0'] = bb
        i = 5
    csp = lambda c1, c2: C3(c1, c2, n(3), False, ghost=ghost)
    # The head section: 1x1 conv, up, cat P4, C3, 1x1 conv, up, cat P3, C3 (P3 out), down, cat, C3, down, cat, C3.
    spec = [(down(c5, ch(512), 1, 1), 1), (None, 2), (csp(ch(512) + c4, ch(512)), 1), (down(ch(512), ch(256), 1, 1), 1),
            (None, 2), (csp(ch(256) + c3, ch(256)), 1), (down(ch(256), ch(256)), 2),
            (csp(ch(256) + ch(256), ch(512)), 1), (down(ch(512), ch(512)), 2), (csp(ch(512) + ch(512), ch(1024)), 1)]
    for m, width in spec:
        if m is not None:
            layers[str(i)] = m
        i += width  # an upsample and a concat take one index each, without tensors
    layers[str(i)] = Detect(nc, [ch(256), ch(512), ch(1024)])
    net = nn.Module()
    net.model = nn.Module()
    for k, m in layers.items():
        net.model.add_module(k, m)
    return net


def shapes():
    out = {}
    for spec in sys.argv[2:]:
        arch, scale, backbone, nc = spec.split(':')
        net = build(arch, scale, backbone, int(nc))
        out[spec] = {k: list(v.shape) for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    print(json.dumps(out))


def bbox_ciou(box1, box2, eps=1e-7):
    """YOLOv5's bbox_iou(xywh=True, CIoU=True)."""
    (x1, y1, w1, h1), (x2, y2, w2, h2) = box1.chunk(4, -1), box2.chunk(4, -1)
    b1_x1, b1_x2, b1_y1, b1_y2 = x1 - w1 / 2, x1 + w1 / 2, y1 - h1 / 2, y1 + h1 / 2
    b2_x1, b2_x2, b2_y1, b2_y2 = x2 - w2 / 2, x2 + w2 / 2, y2 - h2 / 2, y2 + h2 / 2
    w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
    w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
    inter = (torch.min(b1_x2, b2_x2) - torch.max(b1_x1, b2_x1)).clamp(0) * \
            (torch.min(b1_y2, b2_y2) - torch.max(b1_y1, b2_y1)).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = torch.max(b1_x2, b2_x2) - torch.min(b1_x1, b2_x1)
    chh = torch.max(b1_y2, b2_y2) - torch.min(b1_y1, b2_y1)
    c2 = cw ** 2 + chh ** 2 + eps
    rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2) ** 2 + (b2_y1 + b2_y2 - b1_y1 - b1_y2) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


def compute_loss(p, targets, anchors, nc, imgsz, anchor_t=4.0):
    """ComputeLoss.__call__ and build_targets with hyp.scratch-low (box 0.05, obj 1.0, cls 0.5, no smoothing or
    focal loss), the gains scaled as train.py does. `anchors` [nl, na, 2] in grid units."""
    nl, na = len(p), anchors.shape[1]
    hyp = {'box': 0.05 * 3 / nl, 'cls': 0.5 * nc / 80 * 3 / nl, 'obj': 1.0 * (imgsz / 640) ** 2 * 3 / nl}
    balance = [4.0, 1.0, 0.4] if nl == 3 else [4.0, 1.0, 0.25, 0.06, 0.02]
    bce = nn.BCEWithLogitsLoss()
    lcls, lbox, lobj = torch.zeros(1, dtype=p[0].dtype), torch.zeros(1, dtype=p[0].dtype), torch.zeros(1, dtype=p[0].dtype)
    # build_targets
    nt = targets.shape[0]
    gain = torch.ones(7, dtype=targets.dtype)
    ai = torch.arange(na, dtype=targets.dtype).view(na, 1).repeat(1, nt)
    tt = torch.cat((targets.repeat(na, 1, 1), ai[..., None]), 2)
    g = 0.5
    off = torch.tensor([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=targets.dtype) * g
    for i, pi in enumerate(p):
        shape = pi.shape
        gain[2:6] = torch.tensor(shape)[[3, 2, 3, 2]]
        t = tt * gain
        if nt:
            r = t[..., 4:6] / anchors[i][:, None]
            j = torch.max(r, 1 / r).max(2)[0] < anchor_t
            t = t[j]
            gxy = t[:, 2:4]
            gxi = gain[[2, 3]] - gxy
            j, k = ((gxy % 1 < g) & (gxy > 1)).T
            l, m = ((gxi % 1 < g) & (gxi > 1)).T
            j = torch.stack((torch.ones_like(j), j, k, l, m))
            t = t.repeat((5, 1, 1))[j]
            offsets = (torch.zeros_like(gxy)[None] + off[:, None])[j]
        else:
            t, offsets = tt[0], 0
        bc, gxy, gwh, a = t.chunk(4, 1)
        a, (b, c) = a.long().view(-1), bc.long().T
        gij = (gxy - offsets).long()
        gi, gj = gij.T
        gj.clamp_(0, shape[2] - 1)
        gi.clamp_(0, shape[3] - 1)
        tbox = torch.cat((gxy - gij, gwh), 1)
        anch = anchors[i][a]
        tobj = torch.zeros(pi.shape[:4], dtype=pi.dtype)
        if n := b.shape[0]:
            pxy, pwh, _, pcls = pi[b, a, gj, gi].split((2, 2, 1, nc), 1)
            pxy = pxy.sigmoid() * 2 - 0.5
            pwh = (pwh.sigmoid() * 2) ** 2 * anch
            iou = bbox_ciou(torch.cat((pxy, pwh), 1), tbox).squeeze(-1)
            lbox += (1.0 - iou).mean()
            tobj[b, a, gj, gi] = iou.detach().clamp(0).type(tobj.dtype)
            if nc > 1:
                tc = torch.zeros_like(pcls)
                tc[range(n), c] = 1.0
                lcls += bce(pcls, tc)
        lobj += bce(pi[..., 4], tobj) * balance[i]
    lbox, lobj, lcls = lbox * hyp['box'], lobj * hyp['obj'], lcls * hyp['cls']
    return (lbox + lobj + lcls) * p[0].shape[0], lbox, lobj, lcls


def loss_case(path):
    case = json.load(open(path))
    preds = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in case['preds']]
    anchors = torch.tensor([[[w / s, h / s] for w, h in lv] for lv, s in zip(case['anchors'], case['strides'])],
                           dtype=torch.float64)
    targets = torch.tensor(case['targets'], dtype=torch.float64).view(-1, 6)
    loss, lbox, lobj, lcls = compute_loss(preds, targets, anchors, case['nc'], case['imgsz'])
    loss.backward()
    print(json.dumps({'loss': loss.item(), 'lbox': lbox.item(), 'lobj': lobj.item(), 'lcls': lcls.item(),
                      'grads': [x.grad.flatten().tolist() for x in preds]}))


if __name__ == '__main__':
    if sys.argv[1] == '--shapes':
        shapes()
    elif sys.argv[1] == '--loss':
        loss_case(sys.argv[2])
    else:
        sys.exit(__doc__)
