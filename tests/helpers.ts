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
