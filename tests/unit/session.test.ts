import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Session } from '../../src-main/api/session.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { call } from '../../src-main/api/dispatch.js';
import { resolveRunSettings } from '../../src-main/settings/run-settings.js';
import { teacherConfigSchema } from '../../src-main/settings/teacher-config.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('recent projects', () => {
  it('are written through a temp file of their own, so another process writing at once cannot get in the way', () => {
    process.env.STARLING_HOME = `${tmp.dir}/home`;
    fs.mkdirSync(`${tmp.dir}/home/recent.json.tmp`, { recursive: true }); // what a fixed temp name would collide with
    ProjectStore.create(`${tmp.dir}/p`).close();
    const s = new Session();
    s.open(`${tmp.dir}/p`);
    expect(s.recent()).toEqual([`${tmp.dir}/p/project.starling`]);
    expect(fs.readdirSync(`${tmp.dir}/home`).filter((f) => f.endsWith('.tmp') && f !== 'recent.json.tmp')).toEqual([]);
    s.close();
  });
});

describe('runs from the API', () => {
  it('are renamed, noted and deleted with their folder, not while a teacher is a file of theirs', async () => {
    process.env.STARLING_HOME = `${tmp.dir}/home2`;
    const s = new Session();
    await call(s, 'project.create', { path: `${tmp.dir}/runs-proj` });
    const store = s.requireProject();
    const run = store.runs.create('first', resolveRunSettings({}));
    const dir = `${store.root}/runs/${run.id}`;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dir}/model.onnx`, 'not really a model');
    store.runs.update(run.id, { status: 'done', artifacts: { dir } });
    const described = await call(s, 'runs.describe', { id: run.id, name: ' renamed ', note: 'a note' });
    expect([described.name, described.note]).toEqual(['renamed', 'a note']);
    const teacher = store.teachers.add(
      'from-run',
      `${dir}/model.onnx`,
      'yolov8',
      teacherConfigSchema.parse({
        file: `${dir}/model.onnx`,
        family: 'yolov8',
        detected: true,
        inputName: 'images',
        imgsz: 64,
        dynamicBatch: false,
        names: ['a'],
        outputs: {},
        metadata: {},
      }),
    );
    await expect(call(s, 'runs.delete', { id: run.id })).rejects.toThrow(
      /the teacher "from-run" is a file of this run/,
    );
    store.teachers.remove(teacher.id);
    expect(await call(s, 'runs.delete', { id: run.id })).toEqual({ deleted: run.id, removedDir: dir });
    expect(fs.existsSync(dir)).toBe(false);
    await expect(call(s, 'runs.describe', { id: run.id, note: 'x' })).rejects.toThrow(/run \d+ does not exist/);
    await s.dispose();
  });
});
