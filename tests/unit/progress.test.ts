import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src-main/api/contract.js';
import { ProgressBar } from '../../src-main/cli/progress.js';
import { epochLine } from '../../src-main/train/train-job.js';

const job = (done: number, total = 100): JobInfo => ({
  id: 'j',
  kind: 'import',
  label: 'Import',
  status: 'running',
  done,
  total,
  startedAt: 0,
});

function stream(tty: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY: tty, columns: 120, write: (t: string) => out.push(t) } as unknown as NodeJS.WriteStream };
}

describe('CLI progress', () => {
  it('without a terminal, prints a line every 10% of the work or every 10 s, and log lines as they come', () => {
    const { out, s } = stream(false);
    let now = 0;
    const bar = new ProgressBar(s, () => now);
    for (let d = 1; d <= 100; d++) {
      now += 50; // 5 s in all: only the 10% steps print
      bar.update(job(d));
    }
    expect(out.filter((l) => l.startsWith('['))).toHaveLength(11); // the first, then at each 10%
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    const slow = stream(false);
    now = 0;
    const b2 = new ProgressBar(slow.s, () => now);
    for (let d = 1; d <= 5; d++) {
      now += 6000; // 1% every 6 s: a line every 10 s of it
      b2.update(job(d));
    }
    expect(slow.out).toHaveLength(3); // the first update, then at 12 s and 24 s
    b2.log('epoch 1/30  box 1.000');
    expect(slow.out.at(-1)).toBe('epoch 1/30  box 1.000\n');
  });

  it('on a terminal, redraws one bar and prints log lines above it', () => {
    const { out, s } = stream(true);
    const bar = new ProgressBar(s);
    bar.update(job(10));
    bar.log('epoch 1/2  box 1.000');
    bar.update(job(20));
    expect(out[0]).toMatch(/^\r\[/);
    expect(out[1]).toMatch(/^\r +\r$/); // the bar cleared
    expect(out[2]).toBe('epoch 1/2  box 1.000\n');
    expect(out[3]).toMatch(/^\r\[#+\.+\] +20%/);
  });
});

describe("a training's epoch line", () => {
  const epoch = (i: number) => ({
    epoch: i,
    metrics: { seconds: 60, imagesPerSecond: 10, 'loss.box': 1 },
    best: false,
  });
  const history = [epoch(0), epoch(1)];

  it('says the time left at the mean epoch time, capped by a time budget', () => {
    // Epoch 2 of 10 at 60 s an epoch: 8 epochs, 8 min, left by the rate.
    expect(epochLine(epoch(1), 10, history)).toContain('ETA 8:00');
    // A budget with 90 s left ends the run first (its last epoch is cut short).
    expect(epochLine(epoch(1), 10, history, 90)).toContain('ETA 1:30');
    expect(epochLine(epoch(1), 10, history, -5)).toContain('ETA 0:00');
  });
});
