import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { call } from '../../src-main/api/dispatch.js';
import { Session } from '../../src-main/api/session.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { tempDir } from '../helpers.js';
import { DEFAULT_RUN_SETTINGS } from '../../src-main/settings/run-settings.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('runs left running by a process that stopped', () => {
  it('are marked failed (resumable) when the project opens; runs of live processes are left alone', async () => {
    const store = ProjectStore.create(`${tmp.dir}/proj`);
    // A process that has exited: its pid is free (a killed app leaves exactly this behind).
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const host = os.hostname();
    const owners = {
      killed: { pid: gone, host, since: Date.now() - 60_000 },
      alive: { pid: process.pid, host, since: Date.now() },
      // This process's pid, recorded before it started: an earlier process that was given the same pid.
      reused: { pid: process.pid, host, since: Date.now() - process.uptime() * 1000 - 60_000 },
      elsewhere: { pid: gone, host: `${host}-other`, since: Date.now() },
      // A live pid (this process's parent), recorded before the machine booted: a power loss; the pid is reused.
      beforeBoot: { pid: process.ppid, host, since: Date.now() - os.uptime() * 1000 - 60_000 },
    };
    const ids = Object.fromEntries(
      Object.entries(owners).map(([name, owner]) => {
        const run = store.runs.create(name, DEFAULT_RUN_SETTINGS);
        store.runs.update(run.id, {
          status: 'running',
          summary: { owner, weights: { from: 'run:1' }, experiment: { name: 'cfg', key: 'ab'.repeat(16) } },
        });
        return [name, run.id];
      }),
    );
    const legacy = store.runs.create('no owner recorded', DEFAULT_RUN_SETTINGS);
    store.runs.update(legacy.id, { status: 'running' });
    store.close();

    const session = new Session();
    const opened = session.open(`${tmp.dir}/proj`);
    const status = (id: number) => opened.runs.get(id).status;
    expect(status(ids.killed!)).toBe('failed');
    // Marked failed, keeping the rest of its summary (where it started, its sweep cell), not its dead owner.
    expect(opened.runs.get(ids.killed!).summary).toEqual({
      error: `interrupted: the process training it (pid ${gone}) stopped; resume it from its last epoch`,
      weights: { from: 'run:1' },
      experiment: { name: 'cfg', key: 'ab'.repeat(16) },
    });
    expect(status(ids.reused!)).toBe('failed');
    expect(status(ids.beforeBoot!)).toBe('failed');
    expect(status(ids.alive!)).toBe('running');
    expect(status(ids.elsewhere!)).toBe('running');
    expect(status(legacy.id)).toBe('running');
    // A run a live process trains cannot be resumed by another: refused before any job starts, naming the
    // process. A run whose process is gone resumes (its job starts).
    await expect(call(session, 'train.start', { resume: ids.alive! })).rejects.toThrow(
      new RegExp(`run ${ids.alive} is being trained by process ${process.pid} on ${host}; stop it there`),
    );
    await expect(call(session, 'train.start', { resume: ids.elsewhere! })).rejects.toThrow(
      new RegExp(`process ${gone} on ${host}-other; resume it on that machine`),
    );
    expect(session.jobs.list()).toHaveLength(0);
    await session.dispose();
  });
});
