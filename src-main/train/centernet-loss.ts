/**
 * The CenterNet loss (as centerX trains it) inside the train-step graph: the CornerNet-style penalty-reduced
 * focal loss on the class heatmaps (alpha 2, beta 4, normalized by the number of objects), and L1 losses on
 * size and sub-cell offset at object centres, with CenterNet's weights (hm 1, wh 0.1, off 1).
 * Targets come dense from `centernetTargets`.
 */
import * as F from '../engine/functional.js';
import type { Graph, Tensor } from '../engine/ir.js';

export interface CenterNetLossOptions {
  gains?: { hm: number; wh: number; reg: number };
  /**
   * [B, C, 1, 1]: 1 where an image's class is supervised; 0 leaves the class out of the heatmap loss on that image
   * (centerX's ignore_unlabel: a class nobody labeled there is not learned as background).
   */
  classMask?: Tensor;
}

export interface CenterNetLoss {
  loss: Tensor;
  terms: { hm: Tensor; wh: Tensor; reg: Tensor };
}

/** CenterNet clamps sigmoid outputs to [1e-4, 1 - 1e-4]; clamping the logit to +-logit(1 - 1e-4) is the same. */
const LOGIT_CLAMP = Math.log((1 - 1e-4) / 1e-4);

/** log(1 + e^x), stable for large |x|. */
const softplus = (x: Tensor) => F.add(F.relu(x), F.log(F.add(F.exp(F.neg(F.abs(x))), 1)));

/**
 * @param maps raw head maps: cls logits [B, C, H, W], wh [B, 2, H, W], reg [B, 2, H, W]
 * @param t target inputs of the same shapes; `centers` holds object weights at centre cells, `mask` [B, 1, H, W]
 */
export function centernetLoss(
  maps: { cls: Tensor; wh: Tensor; reg: Tensor },
  t: { heatmap: Tensor; centers: Tensor; wh: Tensor; reg: Tensor; mask: Tensor },
  o: CenterNetLossOptions = {},
): CenterNetLoss {
  const gains = o.gains ?? { hm: 1, wh: 0.1, reg: 1 };
  const x = F.clamp(maps.cls, -LOGIT_CLAMP, LOGIT_CLAMP);
  const p = F.sigmoid(x);
  const logP = F.neg(softplus(F.neg(x)));
  const log1mP = F.neg(softplus(x));
  const isPos = F.cast(F.greater(t.centers, 0), 'float32');
  const oneMinusGt = F.sub(1, t.heatmap);
  const negWeight0 = F.mul(F.mul(F.mul(oneMinusGt, oneMinusGt), F.mul(oneMinusGt, oneMinusGt)), F.sub(1, isPos));
  const negWeight = o.classMask ? F.mul(negWeight0, o.classMask) : negWeight0;
  const oneMinusP = F.sub(1, p);
  const posLoss = F.sum(F.mul(F.mul(logP, F.mul(oneMinusP, oneMinusP)), t.centers));
  const negLoss = F.sum(F.mul(F.mul(log1mP, F.mul(p, p)), negWeight));
  const numPos = F.maximum(F.sum(isPos), 1);
  const hm = F.div(F.neg(F.add(posLoss, negLoss)), numPos);

  // RegL1Loss: masked absolute error summed, over (2 values x objects).
  const maskSum = F.add(F.mul(F.sum(t.mask), 2), 1e-4);
  const l1 = (pred: Tensor, target: Tensor) => F.div(F.sum(F.mul(F.abs(F.sub(pred, target)), t.mask)), maskSum);
  const wh = l1(maps.wh, t.wh);
  const reg = l1(maps.reg, t.reg);
  const loss = F.add(F.add(F.mul(hm, gains.hm), F.mul(wh, gains.wh)), F.mul(reg, gains.reg));
  return { loss, terms: { hm, wh, reg } };
}

/** Graph inputs for the targets at input size `imgsz`. */
export function centernetTargetInputs(g: Graph, batch: number, nc: number, h: number, w: number) {
  return {
    heatmap: g.input('heatmap', [batch, nc, h, w]),
    centers: g.input('centers', [batch, nc, h, w]),
    wh: g.input('wh', [batch, 2, h, w]),
    reg: g.input('reg', [batch, 2, h, w]),
    mask: g.input('mask', [batch, 1, h, w]),
  };
}
