import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Rng } from '../util/random.js';
import type { Rgb } from './colors.js';
import type { Blur, Scene } from './layout.js';
import type { Extent } from './shapes.js';

/** Rasterizing SVG and degrading the result like a cheap camera: motion or focus blur, sensor noise, JPEG. */

export interface Raster {
  /** Packed RGB, row-major. */
  data: Buffer;
  width: number;
  height: number;
}

const rgbRaw = (width: number, height: number, channels: 3 | 4 = 3) => ({ raw: { width, height, channels } });

export async function rasterize(svg: string): Promise<Raster> {
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean colour of `box` (in pixels), from an 8x8 grid of samples. */
export function meanColour(r: Raster, box: Extent): Rgb {
  let [red, green, blue] = [0, 0, 0];
  const n = 8;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = Math.min(r.width - 1, Math.max(0, Math.floor(box.x + ((i + 0.5) * box.w) / n)));
      const y = Math.min(r.height - 1, Math.max(0, Math.floor(box.y + ((j + 0.5) * box.h) / n)));
      const o = (y * r.width + x) * 3;
      red += r.data[o]!;
      green += r.data[o + 1]!;
      blue += r.data[o + 2]!;
    }
  }
  return [red / (n * n), green / (n * n), blue / (n * n)];
}

/** A normalized line kernel: `length` pixels at `angle` radians, the blur of a camera moving during exposure. */
export function motionKernel(length: number, angle: number): { width: number; height: number; kernel: number[] } {
  const size = length % 2 ? length : length + 1;
  const kernel = new Array<number>(size * size).fill(0);
  const c = (size - 1) / 2;
  for (let t = -c; t <= c; t += 0.25) {
    kernel[Math.round(c + t * Math.sin(angle)) * size + Math.round(c + t * Math.cos(angle))] = 1;
  }
  return { width: size, height: size, kernel };
}

async function applyBlur(r: Raster, blur: Blur): Promise<Raster> {
  const img = sharp(r.data, rgbRaw(r.width, r.height));
  const blurred =
    blur.kind === 'gaussian'
      ? img.blur(blur.sigma)
      : img.convolve(motionKernel(blur.length, blur.angle)); // scale defaults to the kernel sum
  return { ...r, data: await blurred.raw().toBuffer() };
}

/** Adds gaussian noise in place, from `rng` so it is as reproducible as the rest. */
function addNoise(r: Raster, sigma: number, rng: Rng): void {
  const d = r.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.max(0, Math.min(255, Math.round(d[i]! + sigma * rng.normal())));
}

/** Draws `foregroundSvg` over `background`, degrades the result as `scene` says and writes it as JPEG. */
export async function renderImage(
  background: Raster,
  foregroundSvg: string,
  scene: Pick<Scene, 'blur' | 'noiseSigma' | 'jpegQuality'>,
  noiseRng: Rng,
  file: string,
): Promise<void> {
  const { width, height } = background;
  const { data, info } = await sharp(background.data, rgbRaw(width, height))
    .composite([{ input: Buffer.from(foregroundSvg) }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  let image: Raster = {
    data: info.channels === 3 ? data : await sharp(data, rgbRaw(width, height, 4)).removeAlpha().raw().toBuffer(),
    width,
    height,
  };
  if (scene.blur) image = await applyBlur(image, scene.blur);
  if (scene.noiseSigma > 0) addNoise(image, scene.noiseSigma, noiseRng);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(image.data, rgbRaw(width, height))
    .jpeg({ quality: scene.jpegQuality, chromaSubsampling: '4:2:0' })
    .toFile(file);
}
