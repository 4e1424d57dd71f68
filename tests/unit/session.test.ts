import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Session } from '../../src-main/api/session.js';
import { ProjectStore } from '../../src-main/store/project.js';
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
