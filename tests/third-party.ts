/**
 * Third-party files for tests: the real Ultralytics checkpoint and ONNX export in ../shared (see its README), and
 * checkpoints Debian's PyTorch writes at test time (tests/fixtures/torch/make_checkpoints.py: torchvision's
 * classifiers, a StarNet release layout, an Ultralytics YOLO11n). In CI both must be there; elsewhere a test that
 * needs one that is missing is skipped with a message saying what to install.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The folder holding yolov8n-sample6.pt/.onnx, input.f32, output0.f32, predictions.json and image.jpg, or null. */
export function ultralyticsFixture(): string | null {
  const dir = process.env.STARLING_ULTRALYTICS_FIXTURE ?? path.resolve(ROOT, '../shared/fixtures/ultralytics');
  const ok = ['yolov8n-sample6.pt', 'yolov8n-sample6.onnx', 'input.f32', 'output0.f32', 'predictions.json'].every((f) =>
    fs.existsSync(path.join(dir, f)),
  );
  if (ok) return dir;
  const why = `the Ultralytics fixture is not at ${dir} (set STARLING_ULTRALYTICS_FIXTURE)`;
  if (process.env.CI) throw new Error(why);
  console.warn(`skipped: ${why}`);
  return null;
}

/** A Python 3 that imports torch and torchvision (Debian's python3-torch, python3-torchvision), or null. */
export function pythonWithTorch(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  const why = 'no python3 with torch and torchvision (apt install python3-torch python3-torchvision)';
  if (process.env.CI) throw new Error(why);
  console.warn(`skipped: ${why}`);
  return null;
}

/** Runs make_checkpoints.py into `dir`; returns its checksums (checkpoints.json). */
export function makeCheckpoints(python: string, dir: string): CheckpointsInfo {
  const script = path.join(ROOT, 'tests/fixtures/torch/make_checkpoints.py');
  // Killed on timeout (it starts no processes of its own).
  const r = spawnSync(python, [script, dir], { encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`make_checkpoints.py failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints.json'), 'utf8')) as CheckpointsInfo;
}

export interface CheckpointsInfo {
  parameters: number;
  /** Per YOLO11n tensor: [sum, first element]. */
  tensors: Record<string, [number, number]>;
  /** Output shapes of the reference forwards (torchvision, StarNet). */
  shapes: Record<string, number[]>;
}

/** A little-endian float32 file. */
export function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
