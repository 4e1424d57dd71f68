/**
 * The layering of docs/architecture.md, checked on the imports: each module imports only from its own layer or
 * below, and `train/` and `teachers/` do not import each other (the stated exceptions are listed here).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../src-main');
const LAYER: Record<string, number> = {
  util: 0,
  'errors.ts': 0,
  'version.ts': 0,
  engine: 1,
  runtime: 1,
  models: 2,
  settings: 2,
  store: 3,
  vision: 3,
  formats: 3,
  export: 4,
  inference: 4,
  eval: 5,
  train: 6,
  teachers: 6,
  sample: 6,
  sweep: 6,
  jobs: 7,
  api: 8,
  cli: 8,
  'server.ts': 8,
  'cli.ts': 8,
  'index.ts': 8,
  'preload.ts': 8,
};
/** The documented exception: the NMS op's float64 reference is the pure box geometry. */
const ALLOWED = new Set(['engine/ops/detection.ts -> inference/boxes.ts']);

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const top = (rel: string) => rel.split('/')[0]!;

describe('layers', () => {
  it('every import goes to the same layer or below; train and teachers do not import each other', () => {
    const bad: string[] = [];
    for (const file of files(ROOT)) {
      const rel = path.relative(ROOT, file);
      const from = top(rel);
      expect(LAYER[from], `${rel}: a folder the layer table does not know`).toBeDefined();
      const src = fs.readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
        const target = path.relative(ROOT, path.resolve(path.dirname(file), m[1]!)).replace(/\.js$/, '.ts');
        if (target.startsWith('..')) continue;
        const to = top(target);
        const edge = `${rel} -> ${target}`;
        if (ALLOWED.has(edge) || to === from) continue;
        const crossed = (from === 'train' && to === 'teachers') || (from === 'teachers' && to === 'train');
        if (crossed || (LAYER[to] ?? -1) > LAYER[from]!) bad.push(edge);
      }
    }
    expect(bad).toEqual([]);
  });
});
