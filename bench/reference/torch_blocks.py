"""PyTorch twins of the model zoo's StarNet, ShuffleNetV2 and MobileNetV3 blocks, for the engine benchmark (reference only; not part of the product).

usage: /usr/bin/python3 torch_blocks.py CASE WEIGHTS.safetensors GRADS_OUT.safetensors ITERS THREADS
Loads the state dict and input written by the TypeScript side, computes one training step's gradients
(loss = mean(y^2)), writes them, then times ITERS forward+backward steps and prints JSON.
"""
import json, resource, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        b, e = v['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + b:8 + n + e], dtype=np.float32).copy().reshape(v['shape']))
    return out


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = tensors[k].detach().numpy().astype(np.float32)
        blobs.append(a.tobytes())
        header[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def conv_bn(cin, cout, k, stride=1, groups=1, bias=False):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=bias), nn.BatchNorm2d(cout))


class ConvBN(nn.Sequential):
    """The StarNet reference's ConvBN (children named conv, bn)."""
    def __init__(self, cin, cout, k=1, stride=1, padding=0, groups=1, with_bn=True):
        super().__init__()
        self.add_module('conv', nn.Conv2d(cin, cout, k, stride, padding, groups=groups))
        if with_bn:
            self.add_module('bn', nn.BatchNorm2d(cout, eps=1e-3, momentum=0.03))


class StarBlock(nn.Module):
    def __init__(self, dim, mlp_ratio=3):
        super().__init__()
        self.dwconv = ConvBN(dim, dim, 7, 1, 3, groups=dim)
        self.f1 = ConvBN(dim, mlp_ratio * dim, 1, with_bn=False)
        self.f2 = ConvBN(dim, mlp_ratio * dim, 1, with_bn=False)
        self.g = ConvBN(mlp_ratio * dim, dim, 1)
        self.dwconv2 = ConvBN(dim, dim, 7, 1, 3, groups=dim, with_bn=False)

    def forward(self, x):
        h = self.dwconv(x)
        y = F.relu6(self.f1(h)) * self.f2(h)
        return x + self.dwconv2(self.g(y))


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, inp, oup, stride):
        super().__init__()
        self.stride = stride
        bf = oup // 2
        if stride > 1:
            self.branch1 = nn.Sequential(nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp),
                                         nn.Conv2d(inp, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU())
        b2in = inp if stride > 1 else bf
        self.branch2 = nn.Sequential(nn.Conv2d(b2in, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU(),
                                     nn.Conv2d(bf, bf, 3, stride, 1, groups=bf, bias=False), nn.BatchNorm2d(bf),
                                     nn.Conv2d(bf, bf, 1, bias=False), nn.BatchNorm2d(bf), nn.ReLU())

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return channel_shuffle(out, 2)


def make_divisible(v, d=8):
    r = max(d, int(v + d / 2) // d * d)
    return r + d if r < 0.9 * v else r


class SE(nn.Module):
    def __init__(self, c, s):
        super().__init__()
        self.fc1 = nn.Conv2d(c, s, 1)
        self.fc2 = nn.Conv2d(s, c, 1)

    def forward(self, x):
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(x, 1)))))


class MBv3Block(nn.Module):
    def __init__(self, inp, exp, out, k, stride):
        super().__init__()
        self.res = stride == 1 and inp == out
        layers = []
        if exp != inp:
            layers.append(nn.Sequential(nn.Conv2d(inp, exp, 1, bias=False), nn.BatchNorm2d(exp, 0.001, 0.01), nn.Hardswish()))
        layers.append(nn.Sequential(nn.Conv2d(exp, exp, k, stride, (k - 1) // 2, groups=exp, bias=False),
                                    nn.BatchNorm2d(exp, 0.001, 0.01), nn.Hardswish()))
        layers.append(SE(exp, make_divisible(exp / 4)))
        layers.append(nn.Sequential(nn.Conv2d(exp, out, 1, bias=False), nn.BatchNorm2d(out, 0.001, 0.01)))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return x + y if self.res else y


def build(case):
    if case == 'starnet':
        return nn.Sequential(StarBlock(48, 4), StarBlock(48, 4))
    if case == 'shufflenetv2':
        return nn.Sequential(ShuffleUnit(24, 116, 2), ShuffleUnit(116, 116, 1), ShuffleUnit(116, 116, 1), ShuffleUnit(116, 116, 1))
    if case == 'mobilenetv3':
        return nn.Sequential(MBv3Block(80, 480, 112, 3, 1), MBv3Block(112, 672, 112, 3, 1), MBv3Block(112, 672, 160, 5, 2))
    raise SystemExit(f'unknown case {case}')


def main():
    case, weights, grads_out, iters, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    data = load_safetensors(weights)
    x = data.pop('input')
    model = build(case)
    missing, unexpected = model.load_state_dict({k: v for k, v in data.items()}, strict=False)
    missing = [m for m in missing if not m.endswith('num_batches_tracked')]
    if missing or unexpected:
        raise SystemExit(f'state dict mismatch: missing {missing} unexpected {unexpected}')
    model.train()

    def step():
        model.zero_grad(set_to_none=True)
        y = model(x)
        loss = (y * y).mean()
        loss.backward()
        return loss

    loss = step()
    save_safetensors(grads_out, {k: p.grad for k, p in model.named_parameters()})
    print(json.dumps({'loss': float(loss), **time_steps(step, 3, iters)}))


def time_steps(step, warmup, iters):
    """Median and min milliseconds of `iters` calls of `step` after `warmup` calls, with peak memory and versions."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {'median_ms': times[len(times) // 2], 'min_ms': times[0],
            'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            'torch': torch.__version__, 'threads': torch.get_num_threads()}


if __name__ == '__main__':
    main()
