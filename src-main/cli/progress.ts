import type { JobInfo } from '../api/contract.js';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

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

/** Draws job progress on a terminal (one updating line); silent when stderr is not a TTY. */
export class ProgressBar {
  private lastLen = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(job: JobInfo): void {
    if (!this.stream.isTTY) return;
    const cols = this.stream.columns || 100;
    const line = progressLine(job).slice(0, cols - 1);
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}`);
    this.lastLen = line.length;
  }

  done(): void {
    if (this.stream.isTTY && this.lastLen) this.stream.write('\n');
    this.lastLen = 0;
  }
}
