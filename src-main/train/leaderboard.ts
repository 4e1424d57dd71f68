/**
 * The runs leaderboard: every run of the project on one split, compared only through evaluations made by the
 * one evaluator (`evaluateRun`: the exported graph, COCO mAP, latency on this machine), as SimDeblur argues a
 * fair benchmark must. An evaluation made before the split's labels changed, or before the run wrote a newer
 * checkpoint, is marked stale rather than silently compared.
 */
import fs from 'node:fs';
import { parseDetectorConfig } from '../models/config.js';
import type { ProjectStore } from '../store/project.js';
import type { RunEvaluation } from './validate.js';

export interface LeaderboardRow {
  runId: number;
  name: string;
  status: string;
  model: { backbone: string; head: string; scale: string };
  imgsz: number;
  /** The run's training settings (batch, optimizer, lr0, ...), for side-by-side comparison. */
  settings: Record<string, unknown>;
  epochs: number | null;
  /** Wall-clock seconds of the epochs trained (resumed runs add up). */
  trainSeconds: number | null;
  parameters: number | null;
  gflops: number | null;
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
    const settings = run.config as { config?: Record<string, unknown>; imgsz?: number };
    const config = parseDetectorConfig(settings.config ?? {});
    const summary = (run.summary ?? {}) as { epochs?: number; parameters?: number; gflops?: number };
    const evaluation = (evaluations.get(run.id) as RunEvaluation | undefined) ?? null;
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
      status: run.status,
      model: { backbone: config.backbone, head: config.head, scale: config.scale },
      imgsz: settings.imgsz ?? 320,
      settings: run.config,
      epochs: summary.epochs ?? null,
      trainSeconds: seconds > 0 ? seconds : null,
      parameters: evaluation?.parameters ?? summary.parameters ?? null,
      gflops: evaluation?.gflops ?? summary.gflops ?? null,
      hasCheckpoint,
      evaluation,
      stale,
    };
  });
  return { split, images, rows };
}
