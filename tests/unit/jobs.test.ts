import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src-main/cli/progress.js';
import { StarlingError } from '../../src-main/errors.js';
import { JobManager } from '../../src-main/jobs/manager.js';
import { mapLimit } from '../../src-main/util/map-limit.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('job manager', () => {
  it('reports progress with a rate and ETA, then the result', async () => {
    const jobs = new JobManager();
    const events: string[] = [];
    jobs.onEvent((e, j) => events.push(`${e}:${j.status}`));
    const info = jobs.start('count', 'Counting', async (ctx) => {
      for (let i = 1; i <= 10; i++) {
        await tick();
        ctx.progress(i, 10, 'counting');
      }
      return 42;
    });
    const done = await jobs.wait(info.id);
    expect(done.status).toBe('done');
    expect(done.result).toBe(42);
    expect(done.done).toBe(10);
    expect(done.rate).toBeGreaterThan(0);
    expect(events.at(-1)).toBe('job.finished:done');
    expect(events.filter((e) => e.startsWith('job.progress')).length).toBeGreaterThanOrEqual(2);
  });

  it("caps the ETA by the work's own bound (a time budget's remaining seconds)", async () => {
    const jobs = new JobManager();
    const etas: [number, number][] = [];
    let id = '';
    const info = jobs.start('budgeted', 'Budgeted', async (ctx) => {
      // 1000 units at about 5 ms each is seconds of work by its rate; the bound says at most 0.5 s.
      for (let i = 1; i <= 20; i++) {
        await tick(5);
        ctx.progress(i, 1000, 'training', i < 10 ? undefined : 0.5 - i * 0.01);
        const eta = jobs.get(id).eta;
        if (eta !== undefined) etas.push([i, eta]);
      }
    });
    id = info.id;
    await jobs.wait(info.id);
    const uncapped = etas.filter(([done]) => done < 10);
    const capped = etas.filter(([done]) => done >= 10);
    expect(uncapped.length).toBeGreaterThan(0);
    expect(Math.min(...uncapped.map(([, eta]) => eta))).toBeGreaterThan(1);
    expect(capped.length).toBeGreaterThan(0);
    for (const [done, eta] of capped) expect(eta).toBeCloseTo(0.5 - done * 0.01, 9);
  });

  it('cancels through the signal and reports cancelled', async () => {
    const jobs = new JobManager();
    let steps = 0;
    const info = jobs.start('slow', 'Slow', async (ctx) => {
      for (let i = 0; i < 1000; i++) {
        ctx.throwIfCancelled();
        steps++;
        await tick(2);
      }
    });
    await tick(20);
    jobs.cancel(info.id);
    const end = await jobs.wait(info.id);
    expect(end.status).toBe('cancelled');
    expect(steps).toBeLessThan(1000);
  });

  it('keeps the error code and message of a failed job', async () => {
    const jobs = new JobManager();
    const info = jobs.start('bad', 'Bad', async () => {
      throw new StarlingError('FORMAT', 'x.json: not JSON');
    });
    const end = await jobs.wait(info.id);
    expect(end.status).toBe('failed');
    expect(end.error).toMatchObject({ code: 'FORMAT', message: 'x.json: not JSON' });
    expect(() => jobs.get('nope')).toThrow(/does not exist/);
  });

  it('formats a progress line', () => {
    const line = progressLine({
      id: 'a',
      kind: 'k',
      label: 'l',
      status: 'running',
      done: 5,
      total: 10,
      rate: 2.5,
      eta: 2,
      startedAt: 0,
    });
    expect(line).toMatch(/^\[#{12}\.{12}\]\s+50%\s+5\/10\s+2\.5\/s\s+ETA 0:02$/);
  });
});

describe('mapLimit', () => {
  it('keeps order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (v) => {
      peak = Math.max(peak, ++inFlight);
      await tick(v);
      inFlight--;
      return v * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(peak).toBe(2);
  });
});
