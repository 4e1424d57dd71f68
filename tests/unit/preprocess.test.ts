import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, letterbox, PAD } from '../../src-main/inference/letterbox.js';
import { letterboxOnnx } from '../../src-main/inference/preprocess.js';
import { Runner } from '../../src-main/runtime/session.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
const runner = new Runner({ device: 'cpu' });
afterAll(async () => {
  await runner.dispose();
  tmp.cleanup();
});

/** A photo-like test card: smooth gradients with sharp edges and noise, so any resampling error shows. */
async function card(file: string, width: number, height: number) {
  const px = Buffer.alloc(width * height * 3);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 40;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const edge = (Math.floor(x / 9) + Math.floor(y / 7)) % 2 ? 90 : 0;
      px[i] = Math.min(255, (x * 200) / width + edge + rand());
      px[i + 1] = Math.min(255, (y * 200) / height + rand());
      px[i + 2] = Math.min(255, 255 - edge - rand());
    }
  await sharp(px, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
}

describe('the letterbox as an ONNX graph', () => {
  for (const [width, height, size] of [
    [157, 93, 64], // shrinks, odd slack (the extra pad row goes after the image)
    [40, 61, 96], // enlarges, padding left and right
  ] as const) {
    it(`is within one grey level of the exact OpenCV letterbox (${width}x${height} in ${size})`, async () => {
      const file = `${tmp.dir}/card-${width}x${height}.png`;
      await card(file, width, height);
      const exact = await letterbox({ file, boxes: [] }, size);
      const img = await decodeImage(file);
      const graph = await letterboxOnnx(runner, img.data, img.width, img.height, size);
      expect([graph.scale, graph.padX, graph.padY]).toEqual([exact.scale, exact.padX, exact.padY]);
      expect(graph.data.length).toBe(exact.data.length);
      let worst = 0;
      let off = 0;
      for (let i = 0; i < graph.data.length; i++) {
        const d = Math.abs(graph.data[i]! - exact.data[i]!) * 255;
        worst = Math.max(worst, d);
        if (d > 0.5) off++;
      }
      expect(worst).toBeLessThanOrEqual(1.001);
      expect(off / graph.data.length).toBeLessThan(0.2);
      // The padding is the grey Ultralytics pads with, exactly.
      const corner = exact.padX > 0 ? 0 : (size - 1) * size; // first pixel of a pad column, or the last row
      expect(graph.data[corner]! * 255).toBeCloseTo(PAD, 4);
    });
  }
});
