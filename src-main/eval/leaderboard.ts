/**
 * The runs leaderboard: every run of the project on one split, compared only through evaluations made by the
 * one evaluator (`evaluateRun`: the exported graph, COCO mAP, latency on this machine), as SimDeblur argues a
 * fair benchmark must. An evaluation made before the split's labels changed, or before the run wrote a newer
 * checkpoint, is marked stale rather than silently compared.
 */
import fs from 'node:fs';
import type { RunSettings } from '../settings/run-settings.js';
import type { ProjectStore } from '../store/project.js';
import { readEvaluation, type RunEvaluation } from './run-evaluation.js';
import { distilledFrom, startedFrom, type StartedFrom } from './started-from.js';

export type { StartedFrom } from './started-from.js';

export interface LeaderboardRow {
  runId: number;
  name: string;
  /** The user's note on the run. */
  note: string;
  status: string;
  /** The run's settings (model, data, optimizer, ...), for side-by-side comparison. */
  settings: RunSettings;
  epochs: number | null;
  /** Wall-clock seconds of the epochs trained (resumed runs add up). */
  trainSeconds: number | null;
  parameters: number | null;
  /** Parameters the run trained (frozen layers excluded). */
  trainable: number | null;
  gflops: number | null;
  /** Where its weights started: random, an earlier run, or a file (its name and sha256). */
  from: StartedFrom;
  /** Teachers it was distilled from (empty: none). */
  distilledFrom: string[];
  /** The sweep cell it was trained as (`starling sweep`): the config's name and the cell's key. */
  experiment: { name: string; key: string } | null;
  hasCheckpoint: boolean;
  evaluation: RunEvaluation | null;
  /** Why the evaluation no longer describes the run on this split, or null when it does. */
  stale: string | null;
}

export interface Leaderboard {
  split: 'val' | 'test';
  /** Labeled images in the split now. */
  images: number;
  rows: LeaderboardRow[];
}

export function leaderboard(store: ProjectStore, split: 'val' | 'test'): Leaderboard {
  const { images, digest } = store.labelsFingerprint(split);
  const evaluations = store.runs.evaluations(split);
  const rows = store.runs.list().map((run): LeaderboardRow => {
    const summary = (run.summary ?? {}) as {
      epochs?: number;
      parameters?: number;
      trainable?: number;
      gflops?: number;
      experiment?: { name: string; key: string };
    };
    const stored = evaluations.get(run.id);
    const evaluation = stored === undefined ? null : readEvaluation(stored);
    const seconds = store.runs.epochs(run.id).reduce((t, e) => t + (e.metrics.seconds ?? 0), 0);
    const best = run.artifacts.best;
    const hasCheckpoint = !!best && fs.existsSync(best);
    let stale: string | null = null;
    if (evaluation) {
      if (evaluation.labelsDigest !== digest) stale = `the ${split} labels changed after this evaluation`;
      else if (hasCheckpoint && fs.statSync(best!).mtimeMs > evaluation.checkpointTime)
        stale = 'the run wrote a newer checkpoint after this evaluation';
    }
    return {
      runId: run.id,
      name: run.name,
      note: run.note,
      status: run.status,
      settings: run.settings,
      epochs: summary.epochs ?? null,
      trainSeconds: seconds > 0 ? seconds : null,
      parameters: evaluation?.parameters ?? summary.parameters ?? null,
      trainable: summary.trainable ?? null,
      gflops: evaluation?.gflops ?? summary.gflops ?? null,
      from: startedFrom(run.summary),
      distilledFrom: distilledFrom(run.summary),
      experiment: summary.experiment ?? null,
      hasCheckpoint,
      evaluation,
      stale,
    };
  });
  return { split, images, rows };
}
