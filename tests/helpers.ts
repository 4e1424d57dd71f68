import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'starling-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `n` small real JPEGs (distinct colours, so distinct hashes) into `dir` and returns their paths. */
export async function writeJpegs(dir: string, n: number, size = { width: 64, height: 48 }): Promise<string[]> {
  const { default: sharp } = await import('sharp');
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `img_${String(i).padStart(3, '0')}.jpg`);
    await sharp({
      create: { ...size, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 } },
    })
      .jpeg()
      .toFile(file);
    files.push(file);
  }
  return files;
}

/**
 * A 64 x 64 planar RGB image of two boxes on a dark ground, and their targets (cls, x1, y1, x2, y2, weight): what the
 * loss tests teach a detector to see in a few dozen steps.
 */
export function twoShapes(): { size: number; image: Float32Array; targets: number[] } {
  const size = 64;
  const image = new Float32Array(3 * size * size).fill(0.1);
  for (let c = 0; c < 3; c++) {
    for (let y = 8; y < 28; y++) for (let x = 6; x < 26; x++) image[(c * size + y) * size + x] = 0.95;
    for (let y = 36; y < 60; y++) for (let x = 30; x < 58; x++) image[(c * size + y) * size + x] = 0.5;
  }
  return { size, image, targets: [0, 6, 8, 26, 28, 1, 1, 30, 36, 58, 60, 1] };
}
