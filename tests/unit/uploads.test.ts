import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discardRefused, saveUploads } from '../../src-main/formats/uploads.js';
import { tempDir } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('browser uploads saved into the project', () => {
  it('refuses a path, a hidden name or a non-image name, naming it, and writes nothing of the batch', () => {
    for (const [name, why] of [
      ['../escape.jpg', /path separator/],
      ['sub\\evil.png', /path separator/],
      ['.hidden.jpg', /hidden/],
      ['notes.txt', /not an image file name/],
      ['', /empty name/],
    ] as const) {
      expect(() =>
        saveUploads(tmp.dir, [
          { name: 'fine.jpg', data: b64('a') },
          { name, data: b64('b') },
        ]),
      ).toThrow(why);
      expect(fs.existsSync(path.join(tmp.dir, 'uploads'))).toBe(false);
    }
    expect(() => saveUploads(tmp.dir, [{ name: 'empty.jpg', data: '' }])).toThrow(/empty\.jpg: the file is empty/);
  });

  it('keeps one copy of the same bytes and gives other bytes under a taken name a new name', () => {
    const first = saveUploads(tmp.dir, [{ name: 'a.jpg', data: b64('one') }]);
    expect(first.files).toEqual([path.join(tmp.dir, 'uploads', 'a.jpg')]);
    expect(first.written).toEqual(first.files);
    const again = saveUploads(tmp.dir, [
      { name: 'a.jpg', data: b64('one') },
      { name: 'a.jpg', data: b64('two') },
      { name: 'a.jpg', data: b64('three') },
    ]);
    expect(again.files.map((f) => path.basename(f))).toEqual(['a.jpg', 'a-1.jpg', 'a-2.jpg']);
    expect(again.written.map((f) => path.basename(f))).toEqual(['a-1.jpg', 'a-2.jpg']);
    expect(fs.readFileSync(again.files[2]!, 'utf8')).toBe('three');
  });

  it('never writes through a link or over a folder of the same name', () => {
    fs.mkdirSync(path.join(tmp.dir, 'uploads', 'dir.jpg'), { recursive: true });
    fs.writeFileSync(path.join(tmp.dir, 'outside.jpg'), 'outside');
    fs.symlinkSync(path.join(tmp.dir, 'outside.jpg'), path.join(tmp.dir, 'uploads', 'link.jpg'));
    const r = saveUploads(tmp.dir, [
      { name: 'dir.jpg', data: b64('x') },
      { name: 'link.jpg', data: b64('y') },
    ]);
    expect(r.files.map((f) => path.basename(f))).toEqual(['dir-1.jpg', 'link-1.jpg']);
    expect(fs.readFileSync(path.join(tmp.dir, 'outside.jpg'), 'utf8')).toBe('outside');
  });

  it('refuses an uploads folder that is a link (it could lead out of the project)', () => {
    fs.mkdirSync(path.join(tmp.dir, 'elsewhere'));
    fs.symlinkSync(path.join(tmp.dir, 'elsewhere'), path.join(tmp.dir, 'uploads'));
    expect(() => saveUploads(tmp.dir, [{ name: 'a.jpg', data: b64('a') }])).toThrow(/uploads: not a folder/);
    expect(fs.readdirSync(path.join(tmp.dir, 'elsewhere'))).toEqual([]);
  });

  it('removes the uploads it wrote that were refused, and nothing else', () => {
    fs.mkdirSync(path.join(tmp.dir, 'uploads'));
    fs.writeFileSync(path.join(tmp.dir, 'uploads', 'old.jpg'), 'old');
    const r = saveUploads(tmp.dir, [
      { name: 'old.jpg', data: b64('old') },
      { name: 'bad.jpg', data: b64('bad') },
    ]);
    discardRefused(r.written, r.files);
    expect(fs.readdirSync(path.join(tmp.dir, 'uploads'))).toEqual(['old.jpg']);
  });
});
