/**
 * Where a run's weights started, as its summary records it (train/train-job.ts): from scratch, from an earlier
 * run, or from a file (name, format, sha256). Pure: the CLI's leaderboard and the Runs view both label it.
 */
export type StartedFrom =
  | { kind: 'scratch' }
  | { kind: 'run'; run: number; sha256: string }
  | { kind: 'file'; file: string; format: string; sha256: string };

export function startedFrom(summary: Record<string, unknown> | null): StartedFrom {
  const w = summary?.weights as { run?: number; file?: string; format?: string; sha256?: string } | undefined;
  if (!w?.file) return { kind: 'scratch' };
  if (w.run !== undefined) return { kind: 'run', run: w.run, sha256: w.sha256 ?? '' };
  return { kind: 'file', file: w.file, format: w.format ?? '', sha256: w.sha256 ?? '' };
}

/** Short: `scratch`, `run 3`, or the file's name and the start of its sha256. */
export function fromLabel(f: StartedFrom): string {
  if (f.kind === 'scratch') return 'scratch';
  if (f.kind === 'run') return `run ${f.run}`;
  return `${f.file.split(/[\\/]/).at(-1)} ${f.sha256.slice(0, 8)}`;
}
