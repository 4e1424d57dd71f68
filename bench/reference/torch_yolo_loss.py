"""PyTorch twin of Starling's in-graph YOLOv8/YOLO11 loss (src-main/train/yolo-loss.ts), for the training-speed
benchmark (reference only; not part of the product): task-aligned assignment (top-k 10, alpha 0.5, beta 6.0) on
padded targets, BCE classification, CIoU box loss and DFL, Ultralytics' gains (box 7.5, cls 0.5, dfl 1.5), the
total times the batch size. Written as PyTorch code is usually written for speed, as Ultralytics' v8DetectionLoss
and TaskAlignedAssigner do: the overlaps and class scores only for anchors inside a box (boolean-mask indexing),
box and DFL terms only on the foreground anchors, the assignment under no_grad.

Targets are [B, M, 6]: class, x1, y1, x2, y2 (pixels of the input), weight (0 = a padding row).
"""
import math
import torch
import torch.nn.functional as F

EPS = 1e-7


def ciou(a, b):
    """CIoU of corner boxes [..., 4] (broadcast), alpha held constant as Ultralytics does; returns [...]."""
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    w1, h1 = ax2 - ax1, ay2 - ay1 + EPS
    w2, h2 = bx2 - bx1, by2 - by1 + EPS
    inter = (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(0) * \
        (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(0)
    iou = inter / (w1 * h1 + w2 * h2 - inter + EPS)
    cw = torch.maximum(ax2, bx2) - torch.minimum(ax1, bx1)
    ch = torch.maximum(ay2, by2) - torch.minimum(ay1, by1)
    c2 = cw ** 2 + ch ** 2 + EPS
    rho2 = ((bx1 + bx2 - ax1 - ax2) ** 2 + (by1 + by2 - ay1 - ay2) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + EPS))
    return iou - (rho2 / c2 + v * alpha)


def anchor_grid(feats, strides):
    """Cell centres in grid units [N, 2] and their strides [N, 1], level by level."""
    points, st = [], []
    for f, s in zip(feats, strides):
        h, w = f.shape[2:]
        sy, sx = torch.meshgrid(torch.arange(h, dtype=torch.float32) + 0.5,
                                torch.arange(w, dtype=torch.float32) + 0.5, indexing='ij')
        points.append(torch.stack((sx, sy), -1).view(-1, 2))
        st.append(torch.full((h * w, 1), float(s)))
    return torch.cat(points), torch.cat(st)


class YoloLoss:
    def __init__(self, nc, strides, reg_max=16, topk=10, alpha=0.5, beta=6.0, gains=(7.5, 0.5, 1.5)):
        self.nc, self.strides, self.reg_max = nc, strides, reg_max
        self.topk, self.alpha, self.beta, self.gains = topk, alpha, beta, gains
        self.proj = torch.arange(reg_max, dtype=torch.float32)

    @torch.no_grad()
    def assign(self, scores, pred_px, anchor_px, targets):
        b, n, _ = scores.shape
        m = targets.shape[1]
        gt_cls, gt_box, gt_w = targets[..., 0].long(), targets[..., 1:5], targets[..., 5]
        # Anchor centres strictly inside each (real) box: [B, M, N].
        lt = anchor_px[None, None] - gt_box[..., None, :2]
        rb = gt_box[..., None, 2:] - anchor_px[None, None]
        inside = (torch.cat((lt, rb), -1).amin(-1) > 1e-9) & (gt_w > 0)[..., None]
        overlaps = torch.zeros(b, m, n)
        cls_score = torch.zeros(b, m, n)
        bi = torch.arange(b)[:, None].expand(b, m)
        cls_score[inside] = scores[bi, :, gt_cls][inside]
        pd = pred_px[:, None].expand(b, m, n, 4)[inside]
        gt = gt_box[:, :, None].expand(b, m, n, 4)[inside]
        overlaps[inside] = ciou(gt, pd).clamp(0)
        align = cls_score.pow(self.alpha) * overlaps.pow(self.beta)
        k = min(self.topk, n)
        kth = align.topk(k, dim=-1).values[..., -1:]
        mask_pos = ((align >= kth) & (align > 0) & inside).float()
        # An anchor claimed by several objects keeps the one it overlaps most.
        fg_count = mask_pos.sum(1, keepdim=True)
        best = F.one_hot(overlaps.argmax(1), m).permute(0, 2, 1).float()
        mask_pos = torch.where(fg_count > 1, best, mask_pos)
        fg = mask_pos.sum(1) > 0  # [B, N]
        gt_idx = mask_pos.argmax(1)  # [B, N]
        t_box = gt_box[bi[:, :1], gt_idx]  # [B, N, 4]
        t_cls = gt_cls[bi[:, :1], gt_idx]
        t_w = gt_w[bi[:, :1], gt_idx]
        align_pos = align * mask_pos
        norm = (align_pos * (overlaps * mask_pos).amax(-1, keepdim=True) /
                (align_pos.amax(-1, keepdim=True) + 1e-9)).amax(-2)  # [B, N]
        t_scores = F.one_hot(t_cls, self.nc).float() * (fg.float() * norm * t_w)[..., None]
        return t_box, t_scores, fg

    def __call__(self, feats, targets):
        b = feats[0].shape[0]
        # Padding rows are trailing: keep as many rows as the fullest image has, as Ultralytics pads per batch.
        m = int((targets[..., 5] > 0).sum(1).max().clamp(min=1))
        targets = targets[:, :m]
        no = self.reg_max * 4 + self.nc
        flat = torch.cat([f.view(b, no, -1) for f in feats], 2).permute(0, 2, 1)
        distri, logits = flat.split((self.reg_max * 4, self.nc), 2)
        anchors, stride = anchor_grid(feats, self.strides)
        n = anchors.shape[0]
        dist = distri.view(b, n, 4, self.reg_max).softmax(-1) @ self.proj
        pred_grid = torch.cat((anchors - dist[..., :2], anchors + dist[..., 2:]), -1)
        t_box, t_scores, fg = self.assign(logits.detach().sigmoid(), pred_grid.detach() * stride,
                                          anchors * stride, targets)
        tss = t_scores.sum().clamp(min=1)
        loss_cls = F.binary_cross_entropy_with_logits(logits, t_scores, reduction='sum') / tss
        weight = t_scores.sum(-1)[fg]
        t_grid = (t_box / stride)[fg]
        loss_box = ((1 - ciou(pred_grid[fg], t_grid)) * weight).sum() / tss
        a = anchors[None].expand(b, n, 2)[fg]
        ltrb = torch.cat((a - t_grid[:, :2], t_grid[:, 2:] - a), -1).clamp(0, self.reg_max - 1 - 0.01)
        tl = ltrb.long()
        wl = tl + 1 - ltrb
        logit = distri.view(b, n, 4, self.reg_max)[fg].reshape(-1, self.reg_max)
        ce_l = F.cross_entropy(logit, tl.view(-1), reduction='none').view(tl.shape)
        ce_r = F.cross_entropy(logit, (tl + 1).view(-1), reduction='none').view(tl.shape)
        loss_dfl = (((ce_l * wl + ce_r * (1 - wl)).mean(-1)) * weight).sum() / tss
        gb, gc, gd = self.gains
        terms = {'box': loss_box * gb, 'cls': loss_cls * gc, 'dfl': loss_dfl * gd}
        return (terms['box'] + terms['cls'] + terms['dfl']) * b, terms
