import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src-main/formats/dataset.js';
import { ingestDataset } from '../../src-main/formats/ingest.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { tempDir, writeJpegs } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
let store: ProjectStore;
let files: string[];
const strict = { skipBad: false, existing: 'error' } as const;

beforeEach(async () => {
  tmp = tempDir();
  store = ProjectStore.create(`${tmp.dir}/proj`);
  files = await writeJpegs(`${tmp.dir}/proj/images`, 3, { width: 64, height: 48 });
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

function dataset(overrides: Partial<Dataset['images'][number]>[] = []): Dataset {
  return {
    classes: ['cat', 'dog'],
    images: files.map((file, i) => ({
      file,
      split: 'train',
      labeled: true,
      boxes: [{ classIndex: i % 2, x: 1, y: 2, w: 10, h: 20 }],
      ...overrides[i],
    })),
  };
}

describe('ingest', () => {
  it('imports classes, images and boxes with real sizes and hashes', async () => {
    const r = await ingestDataset(store, dataset(), [], strict);
    expect(r).toMatchObject({ images: 3, boxes: 3, classesCreated: ['cat', 'dog'], skipped: [] });
    const im = store.images.get(r.imageIds[0]!);
    expect(im).toMatchObject({ path: 'images/img_000.jpg', width: 64, height: 48, status: 'labeled' });
    expect(im.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(store.annotations.forImage(im.id)).toMatchObject([
      { x: 1, y: 2, w: 10, h: 20, source: 'manual', review: 'accepted' },
    ]);
  });

  it('converts normalized boxes with the real image size', async () => {
    const r = await ingestDataset(
      store,
      dataset([{ normalized: true, boxes: [{ classIndex: 0, x: 0.25, y: 0.5, w: 0.5, h: 0.25 }] }]),
      [],
      strict,
    );
    expect(store.annotations.forImage(r.imageIds[0]!)[0]).toMatchObject({ x: 16, y: 24, w: 32, h: 12 });
  });

  it('imports nothing when anything is wrong, and names each file and problem', async () => {
    fs.writeFileSync(files[2]!, 'not an image');
    const ds = dataset([
      { boxes: [{ classIndex: 0, x: 60, y: 0, w: 10, h: 10 }] }, // overhangs 6 px
      { width: 100, height: 48 }, // stated size disagrees
    ]);
    ds.images.push({ file: `${tmp.dir}/proj/images/gone.jpg`, split: 'val', labeled: true, boxes: [] });
    await expect(ingestDataset(store, ds, [], strict)).rejects.toThrow(/4 problems; nothing was imported/);
    try {
      await ingestDataset(store, ds, [], strict);
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/img_000\.jpg \[box 1\]: box \[60, 0, 10, 10\] lies outside the 64x48 image/);
      expect(msg).toMatch(/img_001\.jpg: label file says 100x48 but the image is 64x48/);
      expect(msg).toMatch(/img_002\.jpg: not a readable image/);
      expect(msg).toMatch(/gone\.jpg: image file not found/);
    }
    expect(store.images.count()).toBe(0);
    expect(store.classes.list()).toEqual([]);
  });

  it('with skipBad imports the rest and reports what it skipped', async () => {
    const ds = dataset([
      {
        boxes: [
          { classIndex: 7, x: 1, y: 1, w: 2, h: 2 },
          { classIndex: 0, x: 1, y: 1, w: 2, h: 2 },
        ],
      },
    ]);
    const r = await ingestDataset(
      store,
      ds,
      [{ file: 'labels.json', item: 'annotation 9', problem: 'bbox is not 4 numbers', scope: 'box' }],
      {
        skipBad: true,
        existing: 'error',
      },
    );
    expect(r.images).toBe(3);
    // The image that lost a box comes in unlabeled, without boxes: labeled, its missing object would be learned
    // as background.
    expect(r.boxes).toBe(2);
    expect(r.skipped.map((e) => e.problem)).toEqual([
      'bbox is not 4 numbers',
      'unknown class index 7',
      'imported unlabeled, without its boxes: 1 of its 2 boxes is bad, so its labels are incomplete',
    ]);
    expect(store.images.get(r.imageIds[0]!).status).toBe('unlabeled');
    expect(store.annotations.forImage(r.imageIds[0]!)).toEqual([]);
    expect(store.images.get(r.imageIds[1]!).status).toBe('labeled');
  });

  it('imports an image whose label file lost a box (a parse error) unlabeled too', async () => {
    const ds = dataset([{ droppedBoxes: 1 }]);
    const r = await ingestDataset(store, ds, [], { skipBad: true, existing: 'error' });
    expect(r.skipped.map((e) => e.problem)).toEqual([
      'imported unlabeled, without its boxes: 1 of its 2 boxes is bad, so its labels are incomplete',
    ]);
    expect(store.images.get(r.imageIds[0]!).status).toBe('unlabeled');
  });

  it('clips boxes that overhang by less than the tolerance', async () => {
    const r = await ingestDataset(
      store,
      dataset([{ boxes: [{ classIndex: 0, x: -0.5, y: 40, w: 20, h: 8.6 }] }]),
      [],
      strict,
    );
    expect(store.annotations.forImage(r.imageIds[0]!)[0]).toMatchObject({ x: 0, y: 40, w: 19.5, h: 8 });
  });

  it('refuses a whole-file problem even with skipBad', async () => {
    await expect(
      ingestDataset(store, dataset(), [{ file: 'x.json', problem: 'not valid JSON', scope: 'file' }], {
        skipBad: true,
        existing: 'error',
      }),
    ).rejects.toThrow(/x\.json: not valid JSON/);
  });

  it('refuses images already in the project unless told to skip them', async () => {
    await ingestDataset(store, dataset(), [], strict);
    await expect(ingestDataset(store, dataset(), [], strict)).rejects.toThrow(/already in the project/);
    const again = await ingestDataset(store, dataset(), [], { skipBad: false, existing: 'skip' });
    expect(again.images).toBe(0);
    expect(store.images.count()).toBe(3);
  });
});

describe('image files that must not be read', () => {
  it('refuses devices, FIFOs and folders by what they are, and files over the cap, before reading them', async () => {
    const { probeImage } = await import('../../src-main/vision/probe.js');
    const { unreadableFile } = await import('../../src-main/util/files.js');
    await expect(probeImage('/dev/zero')).rejects.toThrow(/not a regular file: it is a character device/);
    await expect(probeImage(tmp.dir)).rejects.toThrow(/not a regular file: it is a folder/);
    expect(unreadableFile(files[0]!, 100)).toMatch(/images over 0 MB are refused/);
    expect(unreadableFile(files[0]!)).toBeNull();
  });
});

describe('errors that name their file', () => {
  it('with --skip-bad, a whole unreadable label file is named without telling to use --skip-bad', async () => {
    const err = [{ file: 'labels.json', problem: 'not valid JSON', scope: 'file' as const }];
    await expect(ingestDataset(store, dataset(), err, strict)).rejects.toThrow(/\(use --skip-bad to import the rest\)/);
    const e = await ingestDataset(store, dataset(), err, { skipBad: true, existing: 'error' }).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/a whole label file cannot be read, which --skip-bad cannot skip/);
    expect((e as Error).message).not.toMatch(/use --skip-bad/);
    expect((e as Error).message).toMatch(/labels\.json: not valid JSON/);
  });

  it('a project locked by another process names the project file', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { Session } = await import('../../src-main/api/session.js');
    const { call } = await import('../../src-main/api/dispatch.js');
    process.env.STARLING_HOME = `${tmp.dir}/home`;
    const session = new Session();
    session.adopt(store);
    const other = new Database(store.file);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(call(session, 'classes.create', { name: 'bird' })).rejects.toThrow(
        /proj\/project\.starling: the project is busy: another process or job held its write lock for more than 5 s \(database is locked\); nothing was changed/,
      );
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(store.classes.byName('bird')).toBeUndefined();
  }, 20_000);
});
