/**
 * kill -9 in the middle of a checkpoint write and of an export, in a real CLI process: the project opens, the run
 * resumes from its last whole checkpoint, the exported file is the old whole one, and the temp files the kill
 * left are cleaned up by the next write. Nothing is lost or half-written.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { Session } from '../../src-main/api/session.js';
import { loadCheckpoint } from '../../src-main/engine/checkpoint.js';
import { tempDir } from '../helpers.js';

const BIN = path.resolve('bin/starling.js');
let tmp: ReturnType<typeof tempDir>;
let project: string;

beforeAll(async () => {
  tmp = tempDir();
  process.env.STARLING_HOME = `${tmp.dir}/home`;
  project = `${tmp.dir}/proj`;
  const s = new Session();
  const { jobId } = await call(s, 'sample.create', {
    dir: project,
    seed: 2,
    counts: { train: 8, pool: 0, val: 2, test: 0 },
    open: false,
  });
  expect((await s.jobs.wait(jobId)).status).toBe('done');
  await s.dispose();
}, 60_000);
afterAll(() => tmp.cleanup());

/** Runs the CLI until it reaches the fault point, then kills its whole process group with SIGKILL. */
async function killAt(fault: string, skip: number, ...args: string[]): Promise<void> {
  const mark = `${tmp.dir}/mark-${fault}`;
  fs.rmSync(mark, { force: true });
  const child = spawn(process.execPath, [BIN, ...args], {
    detached: true,
    stdio: 'ignore',
    env: {
      ...process.env,
      STARLING_FAULT_PAUSE: fault,
      STARLING_FAULT_SKIP: String(skip),
      STARLING_FAULT_MARK: mark,
    },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    const started = Date.now();
    while (!fs.existsSync(mark)) {
      if (Date.now() - started > 90_000) throw new Error(`the CLI never reached ${fault}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    // The CLI's job process is in its group too: wait until it is gone as well (up to 5 s).
    for (let i = 0; i < 100 && groupAlive(child.pid!); i++) await new Promise((r) => setTimeout(r, 50));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What the last `cli` call wrote to stderr. */
let lastStderr = '';

async function cli(...args: string[]): Promise<number> {
  const child = spawn(process.execPath, [BIN, ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  child.on('exit', () => (lastStderr = stderr));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 120_000);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  clearTimeout(timer);
  if (code !== 0) console.error(stderr);
  return code;
}

const sha = (f: string) => crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex');

describe('kill -9 midway', () => {
  it('through a checkpoint write: the run resumes from its last whole checkpoint and the temp file goes', async () => {
    const train = ['train', project, '--imgsz', '64', '--batch', '4', '--epochs', '3', '--val-every', '2'];
    // Epoch 1 writes `last`; epoch 2 (validated, so best) is killed while writing `best`.
    await killAt('checkpoint-write', 1, ...train, '--device', 'cpu');
    const dir = `${project}/runs/1`;
    const temps = () => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    expect(temps()).toHaveLength(1); // half of epoch 2's checkpoint
    expect(fs.existsSync(`${dir}/best.safetensors`)).toBe(false);
    expect(JSON.parse(loadCheckpoint(`${dir}/last.safetensors`).metadata.extra!).epoch).toBe(0);

    const s = new Session();
    const store = s.open(project); // the killed process is gone: its run is failed, resumable
    expect(store.runs.get(1).status).toBe('failed');
    await s.dispose();
    expect(await cli('train', project, '--resume', '1')).toBe(0);
    const again = new Session();
    const after = again.open(project);
    expect(after.runs.get(1).status).toBe('done');
    expect(after.runs.epochs(1).map((e) => e.epoch)).toEqual([0, 1, 2]);
    await again.dispose();
    expect(temps()).toEqual([]);
    expect(JSON.parse(loadCheckpoint(`${dir}/last.safetensors`).metadata.extra!).epoch).toBe(2);
  }, 240_000);

  it('through a sweep: started again, it resumes the cell that was cut off and trains the one it lacks', async () => {
    for (const [name, backbone] of [
      ['star', 'starnet_s050'],
      ['shuffle', 'shufflenetv2_x0_5'],
    ])
      fs.writeFileSync(`${tmp.dir}/${name}.yaml`, `model: { backbone: ${backbone} }\ndata: { imgsz: 64, batch: 4 }\n`);
    const sweep = [
      'sweep',
      project,
      `${tmp.dir}/star.yaml`,
      `${tmp.dir}/shuffle.yaml`,
      '--seeds',
      '1',
      '--epochs',
      '2',
    ];
    const cells = () => {
      const s = ProjectStore.open(project);
      try {
        return s.runs
          .list()
          .filter((r) => (r.summary as { experiment?: unknown } | null)?.experiment)
          .map((r) => ({ id: r.id, name: r.name, status: r.status, epochs: s.runs.epochs(r.id).length }));
      } finally {
        s.close();
      }
    };
    // Killed in the first cell's second checkpoint write (its first epoch is whole).
    await killAt('checkpoint-write', 1, ...sweep, '--set', 'device=cpu');
    expect(cells()).toMatchObject([{ name: 'star seed 0', status: 'running' }]);
    const cut = cells()[0]!.id;
    expect(await cli(...sweep, '--set', 'device=cpu')).toBe(0);
    expect(lastStderr).toMatch(new RegExp(`cell 1/2 \\(star seed 0\\): resuming run ${cut} \\(failed\\)`));
    expect(lastStderr).toMatch(/cell 2\/2 \(shuffle seed 0\): training/);
    expect(cells()).toEqual([
      { id: cut, name: 'star seed 0', status: 'done', epochs: 2 },
      { id: expect.any(Number), name: 'shuffle seed 0', status: 'done', epochs: 2 },
    ]);
    // Once more: nothing left to train.
    expect(await cli(...sweep, '--set', 'device=cpu')).toBe(0);
    expect(lastStderr).toMatch(
      /cell 1\/2 \(star seed 0\): have run \d+\n.*cell 2\/2 \(shuffle seed 0\): have run \d+/s,
    );
    expect(lastStderr).not.toMatch(/training|resuming/);
    expect(cells()).toHaveLength(2);
  }, 240_000);

  it('through an export: the file there stays the old whole one, and the next export replaces it', async () => {
    const out = `${tmp.dir}/model.onnx`;
    const exportRun = ['export', '--project', project, '--run', '1', '--imgsz', '64', '--out', out];
    expect(await cli(...exportRun)).toBe(0);
    const before = sha(out);
    await killAt('export-write', 0, ...exportRun, '--style', 'nms');
    expect(sha(out)).toBe(before);
    expect(fs.readdirSync(tmp.dir).filter((f) => f.startsWith('model.onnx.') && f.endsWith('.tmp'))).toHaveLength(1);
    expect(await cli(...exportRun, '--style', 'nms')).toBe(0);
    expect(sha(out)).not.toBe(before);
    expect(fs.readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 240_000);
});

describe('Ctrl+C midway', () => {
  it('in a terminal, which signals the whole process group: the training is cancelled, not killed, and keeps its checkpoint', async () => {
    // Its own group, as a terminal's foreground job is: SIGINT reaches the CLI and its job process alike.
    const child = spawn(
      process.execPath,
      [BIN, 'train', project, '--imgsz', '64', '--batch', '4', '--epochs', '30', '--name', 'interrupted'],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += String(c)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    try {
      const started = Date.now();
      while (!/^epoch 2\/30/m.test(stderr)) {
        if (Date.now() - started > 90_000) throw new Error(`the CLI never reached epoch 2:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      process.kill(-child.pid!, 'SIGINT');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 60_000))]);
      expect(code).not.toBe('hung');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    const store = ProjectStore.open(project);
    try {
      const run = store.runs.list().find((r) => r.name === 'interrupted')!;
      expect(run.status).toBe('cancelled');
      const epochs = store.runs.epochs(run.id).length;
      expect(epochs).toBeGreaterThanOrEqual(2);
      expect(epochs).toBeLessThan(30);
      expect(fs.existsSync(`${project}/runs/${run.id}/last.safetensors`)).toBe(true);
    } finally {
      store.close();
    }
  }, 240_000);
});
