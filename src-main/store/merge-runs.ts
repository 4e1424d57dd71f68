/**
 * Runs trained in another copy of a project merged into this one (`starling merge-runs`): what a sweep spread over
 * machines brings back, each node having trained its cells into its own copy (SQLite over a network file system is
 * not safe to share). A finished run comes over with its settings, summary (its sweep cell too, so the sweep table
 * sees it), epochs, evaluations and its folder of checkpoints; its evaluations turn stale here by themselves when
 * this project's labels differ. Each run is one transaction, its folder copied aside and renamed into place before
 * it commits. A run this project has already is skipped (known by its creation time and settings, not by path or
 * id: a copy made with `cp -r` carries the home project's own runs, and may come back at another path), so merging
 * again is harmless. A copy's run folder is found where its record says or, moved, under the copy's runs/. The runs a
 * run's settings name (`weights.from: run:N`, a `run:N` teacher) are renumbered to their ids here, so its settings
 * still reproduce it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { renumberRunRefs, runRefsOf, type RunSettings } from '../settings/run-settings.js';
import type { ProjectStore } from './project.js';

export interface MergeResult {
  merged: { from: number; to: number; name: string }[];
  skipped: { run: number; name: string; reason: string }[];
  /** Runs merged with a `run:N` in their settings that names no run brought here: left as written. */
  unmapped: { run: number; name: string; refs: number[] }[];
}

/** Where a merged run came from, kept in its summary. */
interface Origin {
  project: string;
  run: number;
  createdAt: number;
}

const FINISHED = new Set(['done', 'failed', 'cancelled']);

export function mergeRuns(target: ProjectStore, source: ProjectStore): MergeResult {
  if (path.resolve(source.file) === path.resolve(target.file))
    throw new StarlingError('INVALID_INPUT', `${source.file} is this project`);
  const ours = target.classes.list().map((c) => c.name);
  const theirs = source.classes.list().map((c) => c.name);
  if (ours.join('\n') !== theirs.join('\n'))
    throw new StarlingError(
      'INVALID_INPUT',
      `${source.file} has the classes ${theirs.join(', ') || '(none)'}; this project has ${ours.join(', ') || '(none)'}: ` +
        'runs of another class list cannot be compared here',
    );
  // A run is known by when it was created and what it ran, wherever it sits: a copy made with `cp -r` holds the
  // home project's own runs too (under the same ids), and a copy may come back at another path.
  const key = (r: { createdAt: number; settings: unknown }) => `${r.createdAt}\n${JSON.stringify(r.settings)}`;
  const findHere = (k: string) => target.runs.list().find((r) => key(r) === k)?.id;
  // The copy's run ids to this project's: runs name only earlier runs, and the list is in id order.
  const ids = new Map<number, number>();
  const evaluations = ['val', 'test'].map((split) => [split, source.runs.evaluations(split)] as const);
  const result: MergeResult = { merged: [], skipped: [], unmapped: [] };
  const runsRoot = path.join(target.root, 'runs');
  for (const run of source.runs.list()) {
    // A run merged into the source from elsewhere keeps its first origin, so chains of merges stay idempotent.
    const origin = (run.summary?.mergedFrom as Origin | undefined) ?? {
      project: path.resolve(source.file),
      run: run.id,
      createdAt: run.createdAt,
    };
    if (!FINISHED.has(run.status)) {
      result.skipped.push({ run: run.id, name: run.name, reason: `it is ${run.status}` });
      continue;
    }
    const settings: RunSettings = renumberRunRefs(run.settings, (n) => ids.get(n));
    const runKey = key({ createdAt: run.createdAt, settings });
    const skipKnown = (id: number) => {
      ids.set(run.id, id);
      result.skipped.push({ run: run.id, name: run.name, reason: 'this project has it already' });
    };
    const known = findHere(runKey);
    if (known !== undefined) {
      skipKnown(known);
      continue;
    }
    // The folder the run recorded, or where it is now: a copy brought back to another path keeps absolute paths
    // of where it trained.
    const recorded = run.artifacts.dir ? path.resolve(run.artifacts.dir) : null;
    const here = path.join(source.root, 'runs', String(run.id));
    const srcDir = recorded && fs.existsSync(recorded) ? recorded : fs.existsSync(here) ? here : null;
    target.transaction(() => {
      // Asked again inside the transaction: another merge into this project may have brought it meanwhile.
      const meanwhile = findHere(runKey);
      if (meanwhile !== undefined) return skipKnown(meanwhile);
      const { owner: _owner, ...summary } = run.summary ?? {};
      const id = target.runs.insertCopy({
        name: run.name,
        status: run.status,
        settings,
        artifacts: {},
        summary: { ...summary, mergedFrom: origin },
        note: run.note,
        createdAt: run.createdAt,
      });
      for (const e of source.runs.epochs(run.id)) target.runs.putEpoch(id, e.epoch, e.metrics);
      // The run's artifacts re-pointed inside its folder here; the folder copied aside and renamed into place
      // last, so a failed copy rolls the record back with it.
      const dir = path.join(runsRoot, String(id));
      const copy = srcDir !== null;
      const base = recorded ?? srcDir;
      const inside = (v: string) =>
        copy && !!base && (path.resolve(v) === base || path.resolve(v).startsWith(base + path.sep));
      const artifacts = Object.fromEntries(
        Object.entries(run.artifacts).map(([k, v]) => [
          k,
          inside(v) ? path.join(dir, path.relative(base!, path.resolve(v))) : v,
        ]),
      );
      target.runs.update(id, { artifacts });
      if (copy) {
        if (fs.existsSync(dir))
          throw new StarlingError('CONFLICT', `${dir} exists already: it is not a run of this project's record`);
        const aside = path.join(runsRoot, `.merge-${id}-${process.pid}`);
        fs.mkdirSync(runsRoot, { recursive: true });
        try {
          fs.cpSync(srcDir!, aside, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
          fs.renameSync(aside, dir);
        } catch (e) {
          fs.rmSync(aside, { recursive: true, force: true });
          throw e;
        }
      }
      // An evaluation that was current in the copy (its checkpoint no newer) is current here: it is dated by the
      // copied checkpoint, whose time a copy does not keep to the sub-millisecond.
      const mtime = (f: string | undefined) => (f && fs.existsSync(f) ? fs.statSync(f).mtimeMs : null);
      const before = mtime(
        run.artifacts.best && srcDir && base
          ? path.join(srcDir, path.relative(base, path.resolve(run.artifacts.best)))
          : undefined,
      );
      const after = mtime(artifacts.best);
      for (const [split, byRun] of evaluations) {
        const ev = byRun.get(run.id) as { checkpointTime?: number } | undefined;
        if (!ev) continue;
        const current = before !== null && ev.checkpointTime !== undefined && before <= ev.checkpointTime;
        target.runs.putEvaluation(id, split, current && after !== null ? { ...ev, checkpointTime: after } : ev);
      }
      result.merged.push({ from: run.id, to: id, name: run.name });
      ids.set(run.id, id);
      const unmapped = runRefsOf(run.settings).filter((n) => !ids.has(n));
      if (unmapped.length) result.unmapped.push({ run: id, name: run.name, refs: unmapped });
    });
  }
  return result;
}
