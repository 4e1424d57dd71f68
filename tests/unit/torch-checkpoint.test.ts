import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nameModules } from '../../src-main/engine/nn.js';
import zlib from 'node:zlib';
import { readTorchCheckpoint, readZip, stateDictOf } from '../../src-main/models/torch-checkpoint.js';
import { writeZip, type ZipPart } from '../zip.js';
import { loadWeights } from '../../src-main/models/weights.js';
import { backboneEntry } from '../../src-main/models/zoo.js';
import { tempDir } from '../helpers.js';

/** Fixtures made by tests/fixtures/torch/make_fixtures.py with PyTorch 1.13 (committed; no Python needed here). */
const FIX = path.resolve('tests/fixtures/torch');
const expected = JSON.parse(fs.readFileSync(`${FIX}/plain.expected.json`, 'utf8')) as Record<
  string,
  { shape: number[]; values: number[] }
>;

describe('PyTorch checkpoints', () => {
  it('reads a torch.save state dict: float, half, double, long and non-contiguous tensors', () => {
    const sd = stateDictOf(readTorchCheckpoint(`${FIX}/plain.pt`), 'plain.pt');
    expect([...sd.keys()]).toEqual(Object.keys(expected));
    for (const [k, e] of Object.entries(expected)) {
      const t = sd.get(k)!;
      expect(t.shape, k).toEqual(e.shape);
      e.values.forEach((v, i) => expect(t.data[i], `${k}[${i}]`).toBeCloseTo(v, 5));
    }
  });

  it('finds the state dict inside a training checkpoint and strips DataParallel prefixes', () => {
    const sd = stateDictOf(readTorchCheckpoint(`${FIX}/wrapped.pth.tar`), 'wrapped.pth.tar');
    expect([...sd.keys()]).toEqual(Object.keys(expected));
  });

  it('refuses pickles that reference anything but tensors and containers, naming the culprit', () => {
    expect(() => readTorchCheckpoint(`${FIX}/unsafe.pt`)).toThrow(
      /unsafe\.pt: refused: the pickle references posix\.system/,
    );
  });

  it('reports truncated and non-checkpoint files clearly', () => {
    const tmp = tempDir();
    try {
      const bytes = fs.readFileSync(`${FIX}/plain.pt`);
      fs.writeFileSync(`${tmp.dir}/cut.pt`, bytes.subarray(0, bytes.length - 300));
      expect(() => readTorchCheckpoint(`${tmp.dir}/cut.pt`)).toThrow(/cut\.pt: (not a zip archive|truncated|corrupt)/);
      fs.writeFileSync(`${tmp.dir}/text.pt`, 'hello');
      expect(() => readTorchCheckpoint(`${tmp.dir}/text.pt`)).toThrow(/text\.pt: not a zip archive/);
    } finally {
      tmp.cleanup();
    }
  });

  it('refuses a zip bomb and storages that disagree with the pickle before inflating them', () => {
    const tmp = tempDir();
    try {
      const entries = [...readZip(fs.readFileSync(`${FIX}/plain.pt`), 'plain.pt').values()];
      const storage = entries.find((e) => /\/data\/\d+$/.test(e.name))!;
      const parts = (replace: ZipPart) =>
        entries.map((e) => (e.name === storage.name ? replace : { name: e.name, data: e.read() }));
      // 256 MiB of zeros deflates to a quarter of a megabyte: declared as one of the fixture's small storages.
      const zeros = zlib.deflateRawSync(Buffer.alloc(256 * 2 ** 20));
      const bomb = `${tmp.dir}/bomb.pt`;
      fs.writeFileSync(bomb, writeZip(parts({ name: storage.name, raw: { deflated: zeros, size: 256 * 2 ** 20 } })));
      expect(fs.statSync(bomb).size).toBeLessThan(2 ** 20);
      const before = process.memoryUsage().rss;
      expect(() => readTorchCheckpoint(bomb)).toThrow(
        new RegExp(`bomb\\.pt: storage \\d+ declares 268435456 bytes, but the pickle says it holds \\d+ \\w+ elements`),
      );
      expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
      // One that lies about its size the other way is stopped at the size it declares.
      const liar = `${tmp.dir}/liar.pt`;
      fs.writeFileSync(liar, writeZip(parts({ name: storage.name, raw: { deflated: zeros, size: storage.size } })));
      expect(() => readTorchCheckpoint(liar)).toThrow(/liar\.pt: .* does not inflate to its declared \d+ bytes/);
    } finally {
      tmp.cleanup();
    }
  });

  it("matches torchvision's state-dict names and shapes for its feature extractors", () => {
    const tv = JSON.parse(fs.readFileSync(`${FIX}/torchvision-keys.json`, 'utf8')) as Record<
      string,
      [string, number[]][]
    >;
    for (const [name, keys] of Object.entries(tv)) {
      const ours = new Map(
        [...nameModules(backboneEntry(name).build({})).namedTensors()].map(([n, p]) => [n, [...p.shape]]),
      );
      const theirs = keys.filter(([k]) => !k.endsWith('num_batches_tracked') && !/^(fc|classifier|conv5)\./.test(k));
      expect(
        theirs.map(([k]) => k),
        name,
      ).toEqual([...ours.keys()]);
      for (const [k, shape] of theirs) expect(ours.get(k), `${name} ${k}`).toEqual(shape);
    }
  });

  it('loads a .pt into a model through loadWeights with a report', () => {
    const tmp = tempDir();
    try {
      // A zoo model has none of the fixture's names: the loader says so instead of silently doing nothing.
      const m = nameModules(backboneEntry('shufflenetv2_x0_5').build({}));
      expect(() => loadWeights(m, `${FIX}/wrapped.pth.tar`)).toThrow(/no tensor matches the model \(6 unexpected/);
    } finally {
      tmp.cleanup();
    }
  });
});
