/**
 * Where a run's knowledge came from, as its summary records it (train/train-job.ts): its starting weights (from
 * scratch, an earlier run, a file with its sha256) and the teachers it was distilled from. Pure: the CLI's
 * leaderboard and the Runs view both label them.
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

/** The teachers a run was distilled from, by name (empty: none). */
export function distilledFrom(summary: Record<string, unknown> | null): string[] {
  const d = summary?.distill as { teachers?: { name?: string }[] } | undefined;
  return (d?.teachers ?? []).map((t) => t.name ?? '?');
}
