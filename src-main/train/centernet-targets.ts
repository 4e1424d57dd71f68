/**
 * CenterNet training targets, built on the CPU per batch as centerX's dataset mapper builds them: per object a
 * Gaussian peak on its class's heatmap at stride 4 (radius from CornerNet's `gaussian_radius` with min overlap
 * 0.7, sigma = diameter / 6, overlapping peaks combined by maximum), and at the centre cell its size (`wh`, in
 * output cells), its sub-cell offset (`reg`) and a mask. Written as dense maps so the losses in the graph need
 * no gather: L1 over `mask * |pred - target|` equals CenterNet's gathered RegL1Loss when centres are distinct.
 */
import { CENTERNET_STRIDE } from '../models/heads/centernet.js';

export interface CenterNetTargets {
  /** [B, C, H, W] Gaussian targets, exactly 1 at each object's centre cell. */
  heatmap: Float32Array;
  /** [B, C, H, W] the object's weight (1, or the pseudo-label weight) at centre cells; 0 elsewhere. */
  centers: Float32Array;
  /** [B, 2, H, W] width and height in output cells at centre cells. */
  wh: Float32Array;
  /** [B, 2, H, W] centre minus centre cell, in [0, 1). */
  reg: Float32Array;
  /** [B, 1, H, W] the object's weight at centre cells. */
  mask: Float32Array;
  size: [number, number];
}

/**
 * CornerNet's radius such that a box whose corners move within it still overlaps the true box by `minOverlap`.
 * Kept exactly as CenterNet ships it (including the r1 quirk), since every CenterNet-family model is trained so.
 */
export function gaussianRadius(height: number, width: number, minOverlap = 0.7): number {
  const b1 = height + width;
  const c1 = (width * height * (1 - minOverlap)) / (1 + minOverlap);
  const r1 = (b1 + Math.sqrt(b1 * b1 - 4 * c1)) / 2;
  const b2 = 2 * (height + width);
  const c2 = (1 - minOverlap) * width * height;
  const r2 = (b2 + Math.sqrt(b2 * b2 - 16 * c2)) / 2;
  const a3 = 4 * minOverlap;
  const b3 = -2 * minOverlap * (height + width);
  const c3 = (minOverlap - 1) * width * height;
  const r3 = (b3 + Math.sqrt(b3 * b3 - 4 * a3 * c3)) / 2;
  return Math.min(r1, r2, r3);
}

/** Draws a (2r+1)^2 Gaussian peak (sigma = (2r+1)/6) centred on integer (cx, cy) into `map` by maximum. */
export function drawGaussian(
  map: Float32Array,
  offset: number,
  width: number,
  height: number,
  cx: number,
  cy: number,
  radius: number,
): void {
  const sigma = (2 * radius + 1) / 6;
  for (let dy = -radius; dy <= radius; dy++) {
    const y = cy + dy;
    if (y < 0 || y >= height) continue;
    for (let dx = -radius; dx <= radius; dx++) {
      const x = cx + dx;
      if (x < 0 || x >= width) continue;
      let v = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      // CenterNet zeroes values below float epsilon times the max so far-away tails stay exactly 0.
      if (v < 2.220446049250313e-16) v = 0;
      const i = offset + y * width + x;
      if (v > map[i]!) map[i] = v;
    }
  }
}

/**
 * @param targets [B, M, 6]: cls, x1, y1, x2, y2 (input pixels), weight (0 = padding row)
 */
export function centernetTargets(
  targets: Float32Array,
  batch: number,
  maxBoxes: number,
  nc: number,
  imgsz: number,
): CenterNetTargets {
  const w = Math.floor(imgsz / CENTERNET_STRIDE);
  const h = w;
  const plane = w * h;
  const t: CenterNetTargets = {
    heatmap: new Float32Array(batch * nc * plane),
    centers: new Float32Array(batch * nc * plane),
    wh: new Float32Array(batch * 2 * plane),
    reg: new Float32Array(batch * 2 * plane),
    mask: new Float32Array(batch * plane),
    size: [h, w],
  };
  for (let b = 0; b < batch; b++) {
    for (let m = 0; m < maxBoxes; m++) {
      const o = (b * maxBoxes + m) * 6;
      const weight = targets[o + 5]!;
      if (!(weight > 0)) continue;
      const cls = targets[o]!;
      const [x1, y1, x2, y2] = [1, 2, 3, 4].map((k) => targets[o + k]! / CENTERNET_STRIDE) as [
        number,
        number,
        number,
        number,
      ];
      const bw = x2 - x1;
      const bh = y2 - y1;
      if (bw <= 0 || bh <= 0) continue;
      const cx = Math.min(Math.max((x1 + x2) / 2, 0), w - 1e-3);
      const cy = Math.min(Math.max((y1 + y2) / 2, 0), h - 1e-3);
      const ix = Math.floor(cx);
      const iy = Math.floor(cy);
      const radius = Math.max(0, Math.floor(gaussianRadius(Math.ceil(bh), Math.ceil(bw))));
      drawGaussian(t.heatmap, (b * nc + cls) * plane, w, h, ix, iy, radius);
      const cell = iy * w + ix;
      t.centers[(b * nc + cls) * plane + cell] = weight;
      t.wh[b * 2 * plane + cell] = bw;
      t.wh[(b * 2 + 1) * plane + cell] = bh;
      t.reg[b * 2 * plane + cell] = cx - ix;
      t.reg[(b * 2 + 1) * plane + cell] = cy - iy;
      t.mask[b * plane + cell] = weight;
    }
  }
  return t;
}
