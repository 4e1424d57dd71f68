import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatItemError, type Dataset } from '../../src-main/formats/dataset.js';
import { uniqueNames } from '../../src-main/formats/files.js';
import { parseDataset, writeDataset } from '../../src-main/formats/index.js';
import { tempDir, writeJpegs } from '../helpers.js';

let tmp: ReturnType<typeof tempDir>;
let imgs: string[];
beforeEach(async () => {
  tmp = tempDir();
  imgs = await writeJpegs(path.join(tmp.dir, 'src'), 3, { width: 64, height: 48 });
});
afterEach(() => tmp.cleanup());

const messages = (r: { errors: Parameters<typeof formatItemError>[0][] }) => r.errors.map(formatItemError).join('\n');

function sampleDataset(): Dataset {
  return {
    classes: ['cat', 'dog', 'unused'],
    images: [
      {
        file: imgs[0]!,
        split: 'train',
        width: 64,
        height: 48,
        labeled: true,
        boxes: [{ classIndex: 1, x: 1.1, y: 2.3, w: 10.7, h: 20.1 }],
      },
      { file: imgs[1]!, split: 'val', width: 64, height: 48, labeled: true, boxes: [] },
      {
        file: imgs[2]!,
        split: 'test',
        width: 64,
        height: 48,
        labeled: true,
        boxes: [{ classIndex: 0, x: 0, y: 0, w: 64, h: 48 }],
      },
    ],
  };
}

function writeJson(file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('COCO', () => {
  it('round-trips bit-exactly', async () => {
    const out = path.join(tmp.dir, 'out');
    await writeDataset('coco', sampleDataset(), out, { images: 'none', imagesRoot: tmp.dir });
    const r = await parseDataset('coco', out, { imagesRoot: tmp.dir });
    expect(r.errors).toEqual([]);
    expect(r.dataset.classes).toEqual(['cat', 'dog', 'unused']);
    expect(r.dataset.images).toEqual(sampleDataset().images);
  });

  it('reports bad JSON, bad UTF-8, unknown ids, negative boxes and escaping paths', async () => {
    const dir = path.join(tmp.dir, 'bad');
    writeJson(path.join(dir, 'a_train.json'), '{"images": [');
    fs.writeFileSync(path.join(dir, 'b_val.json'), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]));
    writeJson(path.join(dir, 'c_test.json'), {
      images: [
        { id: 1, file_name: 'src/img_000.jpg', width: 64, height: 48 },
        { id: 2, file_name: '../../etc/passwd', width: 64, height: 48 },
        { id: 3, file_name: '/etc/passwd', width: 64, height: 48 },
      ],
      annotations: [
        { id: 10, image_id: 1, category_id: 9, bbox: [1, 1, 2, 2] },
        { id: 11, image_id: 1, category_id: 1, bbox: [1, 1, -2, 2] },
        { id: 12, image_id: 7, category_id: 1, bbox: [1, 1, 2, 2] },
        { id: 13, image_id: 1, category_id: 1, bbox: [1, 1, 2] },
        { id: 14, image_id: 1, category_id: 1, bbox: [0, 0, 9, 9], iscrowd: 1 },
        { id: 15, image_id: 1, category_id: 1, bbox: [1, 2, 3, 4] },
      ],
      categories: [{ id: 1, name: 'cat' }],
    });
    const r = await parseDataset('coco', dir, { imagesRoot: tmp.dir });
    const m = messages(r);
    expect(m).toMatch(/a_train\.json: not valid JSON/);
    expect(m).toMatch(/b_val\.json: not valid UTF-8 text/);
    expect(m).toMatch(/c_test\.json \[annotation 10\]: unknown category_id 9/);
    expect(m).toMatch(/\[annotation 11\]: bbox has a negative size/);
    expect(m).toMatch(/\[annotation 12\]: unknown image_id 7/);
    expect(m).toMatch(/\[annotation 13\]: bbox must be 4 finite numbers/);
    expect(m).toMatch(/\[image 2\]: path "\.\.\/\.\.\/etc\/passwd" escapes the dataset root/);
    expect(m).toMatch(/\[image 3\]: path "\/etc\/passwd" is absolute/);
    expect(r.errors.filter((e) => e.scope === 'file')).toHaveLength(2);
    expect(r.dataset.images.map((i) => i.boxes)).toEqual([[{ classIndex: 0, x: 1, y: 2, w: 3, h: 4 }]]);
  });
});

describe('YOLO', () => {
  it('round-trips classes, splits, unlabeled images (kept apart) and boxes to float precision', async () => {
    const ds = sampleDataset();
    ds.images.push({
      file: path.join(tmp.dir, 'other', 'img_000.jpg'),
      split: 'train',
      width: 64,
      height: 48,
      labeled: false,
      boxes: [],
    });
    await writeJpegs(path.join(tmp.dir, 'other'), 1, { width: 64, height: 48 });
    const out = path.join(tmp.dir, 'yolo');
    await writeDataset('yolo', ds, out, { images: 'link', imagesRoot: tmp.dir, unlabeled: 'pool' });
    // The unlabeled image is kept apart from the splits (images/unlabeled), never without labels inside one.
    expect(fs.readdirSync(path.join(out, 'images', 'train'))).toEqual(['img_000.jpg']);
    expect(fs.readdirSync(path.join(out, 'images', 'unlabeled'))).toEqual(['img_000.jpg']);
    const r = await parseDataset('yolo', out);
    expect(r.errors).toEqual([]);
    expect(r.dataset.classes).toEqual(ds.classes);
    const got = r.dataset.images.map((im) => ({
      name: path.basename(im.file),
      split: im.split,
      labeled: im.labeled,
      n: im.boxes.length,
    }));
    expect(got).toEqual([
      { name: 'img_000.jpg', split: 'train', labeled: true, n: 1 },
      { name: 'img_001.jpg', split: 'val', labeled: true, n: 0 },
      { name: 'img_002.jpg', split: 'test', labeled: true, n: 1 },
      { name: 'img_000.jpg', split: 'train', labeled: false, n: 0 },
    ]);
    const box = r.dataset.images[0]!.boxes[0]!;
    expect(box.x * 64).toBeCloseTo(1.1, 9);
    expect(box.h * 48).toBeCloseTo(20.1, 9);
  });

  it('reports unknown classes, bad lines, bad yaml paths and non-UTF-8 file names', async () => {
    const root = path.join(tmp.dir, 'y');
    await writeJpegs(path.join(root, 'images', 'train'), 2);
    fs.writeFileSync(
      Buffer.concat([
        Buffer.from(path.join(root, 'images', 'train') + '/'),
        Buffer.from([0x66, 0xff]),
        Buffer.from('.jpg'),
      ]),
      fs.readFileSync(imgs[0]!),
    );
    fs.mkdirSync(path.join(root, 'labels', 'train'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'labels', 'train', 'img_000.txt'),
      '0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n0 0.5 0.5\n0 0.1 0.2 0.3 0.4 0.5 0.6\n0 0.9 0.9 0.5 0.5\n0 a b c d\n',
    );
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nnames: [cat, dog]\n');
    const r = await parseDataset('yolo', root);
    const m = messages(r);
    expect(m).toMatch(/img_000\.txt \[line 2\]: unknown class id 5 \(data\.yaml has 2 names\)/);
    expect(m).toMatch(/\[line 3\]: 3 fields, want 5/);
    expect(m).toMatch(/\[line 4\]: 7 fields: segmentation polygons are not supported/);
    expect(m).toMatch(/\[line 5\]: box "0 0.9 0.9 0.5 0.5" lies outside the image/);
    expect(m).toMatch(/\[line 6\]: not numbers/);
    expect(m).toMatch(/images\/train \["f\u00ff\.jpg"\]: file name is not valid UTF-8/);
    expect(r.dataset.images.find((i) => i.file.endsWith('img_001.jpg'))?.labeled).toBe(false);

    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: ../../outside\nnames: [cat]\n');
    expect(messages(await parseDataset('yolo', root))).toMatch(/data\.yaml: train: path "\.\.\/\.\.\/outside" escapes/);
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nnc: 3\nnames: [cat]\n');
    expect(messages(await parseDataset('yolo', root))).toMatch(/nc is 3 but 1 names are listed/);
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: [images/train\n');
    expect(messages(await parseDataset('yolo', root))).toMatch(/data\.yaml: not valid YAML/);
    // Names that would be merged or stored as nothing are refused, naming data.yaml.
    for (const [names, problem] of [
      ["['', dog]", /data\.yaml: names\[0\] is an empty name/],
      ['[~, dog]', /data\.yaml: names\[0\] is empty \(null\)/],
      ['[cat, dog, cat]', /data\.yaml: names\[2\] "cat" repeats names\[0\]/],
      ['{0: cat, 1: ~}', /data\.yaml: names\[1\] is empty \(null\)/],
    ] as const) {
      fs.writeFileSync(path.join(root, 'data.yaml'), `train: images/train\nnames: ${names}\n`);
      expect(messages(await parseDataset('yolo', root))).toMatch(problem);
    }
    // A class id is a decimal integer: 0x1 is not class 1.
    fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train\nnames: [cat, dog]\n');
    fs.writeFileSync(path.join(root, 'labels', 'train', 'img_000.txt'), '0x1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n');
    const hex = await parseDataset('yolo', root);
    expect(messages(hex)).toMatch(/img_000\.txt \[line 1\]: not numbers: "0x1 0\.5 0\.5 0\.2 0\.2"/);
    expect(hex.dataset.images.find((i) => i.file.endsWith('img_000.jpg'))).toMatchObject({ droppedBoxes: 1 });
  });
});

describe('label files that name no image problem of their own', () => {
  it('VOC: refuses entity declarations and repeated labels naming the file; --skip-bad skips the XML', async () => {
    const root = path.join(tmp.dir, 'vx');
    fs.mkdirSync(path.join(root, 'Annotations'), { recursive: true });
    fs.mkdirSync(path.join(root, 'JPEGImages'), { recursive: true });
    fs.copyFileSync(imgs[0]!, path.join(root, 'JPEGImages', 'ok.jpg'));
    const xml = (name: string, extra = '') =>
      `<?xml version="1.0"?>${extra}<annotation><filename>${name}</filename><size><width>64</width><height>48</height></size>` +
      '<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>';
    fs.writeFileSync(path.join(root, 'Annotations', 'ok.xml'), xml('ok.jpg'));
    fs.writeFileSync(
      path.join(root, 'Annotations', 'xxe.xml'),
      xml('ok.jpg', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
    );
    fs.writeFileSync(path.join(root, 'Annotations', 'lol.xml'), xml('ok.jpg', '<!DOCTYPE a [<!ENTITY % p "x">]>'));
    const r = await parseDataset('voc', root);
    expect(messages(r)).toMatch(/Annotations\/xxe\.xml: declares a DOCTYPE or entities/);
    expect(messages(r)).toMatch(/Annotations\/lol\.xml: declares a DOCTYPE or entities/);
    expect(r.errors.every((e) => e.scope === 'image')).toBe(true); // skippable
    expect(r.dataset.images.map((i) => path.basename(i.file))).toEqual(['ok.jpg']);
    fs.writeFileSync(path.join(root, 'labels.txt'), 'cat\ndog\ncat\n');
    expect(messages(await parseDataset('voc', root))).toMatch(/labels\.txt: "cat" is listed twice/);
  });

  it('COCO: refuses two categories with one name instead of merging them', async () => {
    const file = path.join(tmp.dir, 'dup.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        images: [],
        annotations: [],
        categories: [
          { id: 1, name: 'cat' },
          { id: 2, name: 'cat' },
        ],
      }),
    );
    expect(messages(await parseDataset('coco', file))).toMatch(
      /dup\.json \[category 2\]: name "cat" is also category 1's/,
    );
  });
});

describe('Pascal VOC', () => {
  it('round-trips bit-exactly', async () => {
    const out = path.join(tmp.dir, 'voc');
    await writeDataset('voc', sampleDataset(), out, { images: 'copy', imagesRoot: tmp.dir });
    const r = await parseDataset('voc', out);
    expect(r.errors).toEqual([]);
    expect(r.dataset.classes).toEqual(['cat', 'dog', 'unused']);
    expect(r.dataset.images.map((im) => ({ ...im, file: path.basename(im.file) }))).toEqual(
      sampleDataset().images.map((im) => ({ ...im, file: path.basename(im.file) })),
    );
  });

  it('reports malformed XML, unknown classes, inverted boxes and escaping file names', async () => {
    const root = path.join(tmp.dir, 'v');
    const ann = path.join(root, 'Annotations');
    fs.mkdirSync(ann, { recursive: true });
    fs.writeFileSync(path.join(root, 'labels.txt'), 'cat\n');
    fs.writeFileSync(path.join(ann, 'a.xml'), '<annotation><filename>a.jpg</filename><object><name>cat</name>');
    fs.writeFileSync(
      path.join(ann, 'b.xml'),
      '<annotation><filename>b.jpg</filename><object><name>bird</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>' +
        '<object><name>cat</name><bndbox><xmin>9</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>',
    );
    fs.writeFileSync(path.join(ann, 'c.xml'), '<annotation><filename>../../etc/passwd</filename></annotation>');
    fs.writeFileSync(
      path.join(ann, 'd.xml'),
      Buffer.concat([
        Buffer.from('<annotation><filename>'),
        Buffer.from([0xfe]),
        Buffer.from('</filename></annotation>'),
      ]),
    );
    const m = messages(await parseDataset('voc', root));
    expect(m).toMatch(/a\.xml: malformed XML/);
    expect(m).toMatch(/b\.xml \[object 1\]: unknown class "bird" \(not in labels\.txt\)/);
    expect(m).toMatch(/b\.xml \[object 2\]: xmax\/ymax smaller than xmin\/ymin/);
    expect(m).toMatch(/c\.xml \[<filename>\]: path "\.\.\/\.\.\/etc\/passwd" escapes/);
    expect(m).toMatch(/d\.xml: not valid UTF-8 text/);
  });
});

describe('export names', () => {
  it('keeps names and stems unique', () => {
    const names = uniqueNames(['/a/x.jpg', '/b/x.jpg', '/c/x.png', '/a/y.jpg']);
    expect([...names.values()]).toEqual(['x.jpg', 'b__x.jpg', 'c__x.png', 'y.jpg']);
  });
});

describe('export from a project', () => {
  it('writes an image as labeled only when it is labeled and nothing on it waits for review', async () => {
    const { ProjectStore } = await import('../../src-main/store/project.js');
    const { datasetFromProject } = await import('../../src-main/formats/from-project.js');
    const store = ProjectStore.create(path.join(tmp.dir, 'exp'));
    try {
      const cls = store.classes.create('cat').id;
      const [done, review, pool] = store.images.addMany([
        { path: 'a.jpg', hash: 'a', width: 10, height: 10, status: 'labeled' },
        { path: 'b.jpg', hash: 'b', width: 10, height: 10, status: 'labeled' },
        { path: 'c.jpg', hash: 'c', width: 10, height: 10 },
      ]);
      store.annotations.addMany([
        { imageId: done!, classId: cls, x: 1, y: 1, w: 2, h: 2 },
        { imageId: review!, classId: cls, x: 1, y: 1, w: 2, h: 2 },
        { imageId: review!, classId: cls, x: 5, y: 5, w: 2, h: 2, source: 'teacher:t', score: 0.7, review: 'pending' },
      ]);
      const ds = datasetFromProject(store);
      expect(ds.images.map((im) => [path.basename(im.file), im.labeled])).toEqual([
        ['a.jpg', true],
        ['b.jpg', false],
        ['c.jpg', false],
      ]);
      expect([ds.unlabeled, ds.underReview]).toEqual([1, 1]);
      expect(pool).toBeDefined();
    } finally {
      store.close();
    }
  });
});
