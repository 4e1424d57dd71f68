import type { JobInfo } from '../api/contract.js';
import { formatDuration } from '../util/duration.js';

export { formatDuration } from '../util/duration.js';

/** One line: `[#####.....]  45%  123/456  12.3/s  ETA 0:10  message`. */
export function progressLine(job: JobInfo, width = 24): string {
  const frac = job.total > 0 ? Math.min(1, job.done / job.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const parts = [`[${bar}]`, `${String(Math.round(frac * 100)).padStart(3)}%`, `${job.done}/${job.total}`];
  if (job.rate) parts.push(`${job.rate.toFixed(1)}/s`);
  if (job.eta !== undefined && job.status === 'running') parts.push(`ETA ${formatDuration(job.eta)}`);
  if (job.message) parts.push(job.message);
  return parts.join('  ');
}

/**
 * Job progress on the CLI. On a terminal: one updating bar, with log lines (an epoch's summary) printed above it.
 * Without one (a log file, nohup, CI): the log lines, plus a progress line every 10% of the work or every 10 s,
 * so a long job is never silent.
 */
export class ProgressBar {
  private lastLen = 0;
  private lastLine = { at: 0, frac: -1 };

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
  ) {}

  update(job: JobInfo): void {
    if (!this.stream.isTTY) return this.plainProgress(job);
    const cols = this.stream.columns || 100;
    const line = progressLine(job).slice(0, cols - 1);
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}`);
    this.lastLen = line.length;
  }

  /** A line to keep: above the bar on a terminal, as it is in a log. */
  log(line: string): void {
    if (this.stream.isTTY && this.lastLen) this.stream.write(`\r${' '.repeat(this.lastLen)}\r`);
    this.stream.write(`${line}\n`);
    this.lastLen = 0;
  }

  private plainProgress(job: JobInfo): void {
    const frac = job.total > 0 ? job.done / job.total : 0;
    const t = this.now();
    const step = Math.floor(frac * 10) > Math.floor(this.lastLine.frac * 10);
    const finished = job.total > 0 && job.done >= job.total && this.lastLine.frac < 1;
    if (!step && !finished && t - this.lastLine.at < 10_000) return;
    this.lastLine = { at: t, frac };
    this.stream.write(`${progressLine(job, 20)}\n`);
  }

  done(): void {
    if (this.stream.isTTY && this.lastLen) this.stream.write('\n');
    this.lastLen = 0;
  }
}
