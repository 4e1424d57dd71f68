import { Rng } from '../src-main/util/random.js';

/**
 * The step benches' batch (`bench:profile`, `bench:step-ab`): uniform-noise images and 8 random boxes per image
 * over 6 classes (8-70 px at imgsz 320, scaled with imgsz), as `[class, x1, y1, x2, y2, weight]` rows padded to
 * `maxBoxes`. The same seed every time, so two benches, or two checkouts, time the same batch.
 */
export function syntheticBatch(batch: number, imgsz: number, maxBoxes: number) {
  const rng = new Rng('bench-train-input');
  const images = Float32Array.from({ length: batch * 3 * imgsz * imgsz }, () => rng.float());
  const targets = new Float32Array(batch * maxBoxes * 6);
  const px = imgsz / 320;
  for (let i = 0; i < batch; i++)
    for (let j = 0; j < 8; j++) {
      const [x, y, w, h] = [
        rng.range(0, 250) * px,
        rng.range(0, 250) * px,
        rng.range(8, 70) * px,
        rng.range(8, 70) * px,
      ];
      targets.set([j % 6, x, y, x + w, y + h, 1], (i * maxBoxes + j) * 6);
    }
  return { images, targets };
}
