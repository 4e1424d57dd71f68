/**
 * Dense distillation for the centernet head, as centerX's KdLoss computes it, per teacher:
 * - heatmaps: student and teacher probabilities through a LeakyReLU(0.01), then the mean squared error over the
 *   channels (classes) the teacher teaches;
 * - size and offset: L1 at every pixel, both maps multiplied by the mask of the teacher's peaks (its ReLU'd
 *   heatmap kept where it equals its 3x3 max-pool, the max over classes), summed and divided by the mask's sum
 *   + 1e-4;
 * at centerX's gains (KD_WEIGHT 10 x cls 1 / wh 1 / reg 0.1), times the run's distillation weight. Teachers line
 * up when they give centerX's maps (cls, reg, wh) at the student's stride-4 size.
 */
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/ir.js';
import { nd } from '../../engine/ndarray.js';
import type { Outputs } from '../../inference/decode.js';
import type { CenterNetOutputs } from '../../models/heads/centernet.js';
import type { Feed } from '../../runtime/session.js';
import { registerDistiller } from './distiller.js';
import { ownedMask } from './yolo.js';

const KD_WEIGHT = 10;
const GAINS = { hm: 1, wh: 1, reg: 0.1 };
const STRIDE = 4;

/** centerX's peak mask of a teacher heatmap [B, C, H, W]: its values at 3x3 local maxima, max over classes. */
export function peakMask(heat: Tensor): Tensor {
  const r = F.relu(heat);
  const keep = F.cast(F.equal(F.maxPool2d(r, 3, { stride: 1, padding: 1 }), r), 'float32');
  return F.max(F.mul(r, keep), 1, true); // [B, 1, H, W]
}

registerDistiller('centernet', {
  aligned(probe, _student, imgsz) {
    const cls = probe.outputs.cls;
    return probe.family === 'centernet' && probe.imgsz === imgsz && cls?.[3] === imgsz / STRIDE;
  },

  classMaskShape: (batch, nc) => [batch, nc, 1, 1],

  loss(g, _m, raw, b, spec) {
    const maps = raw as unknown as CenterNetOutputs;
    const [, nc, h, w] = maps.cls.shape as [number, number, number, number];
    const student = F.leakyRelu(F.sigmoid(maps.cls), 0.01);
    let hm: Tensor | null = null;
    let wh: Tensor | null = null;
    let reg: Tensor | null = null;
    const acc = (a: Tensor | null, x: Tensor) => (a ? F.add(a, x) : x);
    spec.dense.forEach((t, i) => {
      const owned = g.constant(nd([1, nc, 1, 1], ownedMask(t.owned, nc)));
      const heat = F.mul(g.input(`kd${i}_hm`, [b, nc, h, w]), owned);
      const teacher = F.leakyRelu(heat, 0.01);
      const diff = F.sub(student, teacher);
      hm = acc(hm, F.div(F.sum(F.mul(F.mul(diff, diff), owned)), b * t.owned.length * h * w));
      const mask = peakMask(heat);
      const maskSum = F.add(F.sum(mask), 1e-4);
      const l1 = (pred: Tensor, target: Tensor) =>
        F.div(F.sum(F.abs(F.sub(F.mul(pred, mask), F.mul(target, mask)))), maskSum);
      wh = acc(wh, l1(maps.wh, g.input(`kd${i}_wh`, [b, 2, h, w])));
      reg = acc(reg, l1(maps.reg, g.input(`kd${i}_reg`, [b, 2, h, w])));
    });
    const loss = F.add(F.add(F.mul(hm!, GAINS.hm), F.mul(wh!, GAINS.wh)), F.mul(reg!, GAINS.reg));
    return { loss: F.mul(loss, KD_WEIGHT * spec.weight), terms: { kd_hm: hm!, kd_wh: wh!, kd_reg: reg! } };
  },

  denseFeeds(index, outputs: Outputs, n, o) {
    const cls = outputs.cls!;
    const [, tc, h, w] = cls.dims as [number, number, number, number];
    const plane = h * w;
    const heat = new Float32Array(n * o.nc * plane);
    for (let b = 0; b < n; b++)
      for (let c = 0; c < tc; c++) {
        const sc = o.toStudent[c];
        if (sc === null || sc === undefined) continue;
        const from = (b * tc + c) * plane;
        const to = (b * o.nc + sc) * plane;
        for (let k = 0; k < plane; k++) heat[to + k] = Math.max(heat[to + k]!, cls.data[from + k]!);
      }
    const f = (c: number, data: Float32Array): Feed => ({ dtype: 'float32', shape: [n, c, h, w], data });
    return {
      [`kd${index}_hm`]: f(o.nc, heat),
      [`kd${index}_wh`]: f(2, Float32Array.from(outputs.wh!.data.subarray(0, n * 2 * plane))),
      [`kd${index}_reg`]: f(2, Float32Array.from(outputs.reg!.data.subarray(0, n * 2 * plane))),
    };
  },

  // centerX's communism targets: every cls term 1.5, wh 0.3, off 0.1.
  targets: { kd_hm: 1.5, kd_wh: 0.3, kd_reg: 0.1 },
});
