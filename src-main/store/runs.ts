import type { z } from 'zod';
import { StarlingError } from '../errors.js';
import { runSettingsSchema, type RunSettings } from '../settings/run-settings.js';
import { teacherConfigSchema, type TeacherConfig } from '../settings/teacher-config.js';
import type { DB } from './db.js';
import type { EpochMetrics, PredictionRecord, RunRecord, RunStatus, TeacherRecord } from './types.js';

interface RunRow {
  id: number;
  name: string;
  status: RunStatus;
  config: string;
  artifacts: string;
  summary: string | null;
  note: string;
  created_at: number;
  updated_at: number;
}
/** A stored JSON column read back through its schema: a record that does not fit is named, never half-used. */
function parseStored<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new StarlingError('FORMAT', `${what}: its stored settings are not JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new StarlingError(
      'FORMAT',
      `${what}: its stored settings do not fit (${i.path.join('.') || '(root)'}: ${i.message})`,
    );
  }
  return r.data;
}

const toRun = (r: RunRow): RunRecord => ({
  id: r.id,
  name: r.name,
  status: r.status,
  settings: parseStored<RunSettings>(runSettingsSchema, r.config, `run ${r.id}`),
  artifacts: JSON.parse(r.artifacts) as Record<string, string>,
  summary: r.summary ? (JSON.parse(r.summary) as Record<string, unknown>) : null,
  note: r.note,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Training runs, their per-epoch metrics and their stored predictions. */
export class RunRepo {
  constructor(private readonly db: DB) {}

  create(name: string, settings: RunSettings): RunRecord {
    const now = Date.now();
    const id = Number(
      this.db
        .prepare("INSERT INTO runs (name, status, config, created_at, updated_at) VALUES (?, 'queued', ?, ?, ?)")
        .run(name, JSON.stringify(runSettingsSchema.parse(settings)), now, now).lastInsertRowid,
    );
    return this.get(id);
  }

  /** A run from another project, as it was there (merge-runs.ts); returns its id here. */
  insertCopy(r: Omit<RunRecord, 'id' | 'updatedAt'>): number {
    return Number(
      this.db
        .prepare(
          'INSERT INTO runs (name, status, config, artifacts, summary, note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          r.name,
          r.status,
          JSON.stringify(runSettingsSchema.parse(r.settings)),
          JSON.stringify(r.artifacts),
          r.summary ? JSON.stringify(r.summary) : null,
          r.note,
          r.createdAt,
          Date.now(),
        ).lastInsertRowid,
    );
  }

  get(id: number): RunRecord {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) throw new StarlingError('NOT_FOUND', `run ${id} does not exist`);
    return toRun(row);
  }

  list(): RunRecord[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RunRow[]).map(toRun);
  }

  /** Renames a run and/or sets its note (what the user wants to remember about it). */
  describe(id: number, patch: { name?: string; note?: string }): RunRecord {
    const cur = this.get(id);
    const name = patch.name?.trim() ?? cur.name;
    if (!name) throw new StarlingError('INVALID_INPUT', 'a run name cannot be empty');
    this.db.prepare('UPDATE runs SET name = ?, note = ? WHERE id = ?').run(name, patch.note ?? cur.note, id);
    return this.get(id);
  }

  /** Deletes a run's record (epochs, evaluations and predictions go with it); refused while it trains. */
  delete(id: number): RunRecord {
    const run = this.get(id);
    if (run.status === 'running') throw new StarlingError('CONFLICT', `run ${id} is training: cancel it first`);
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
    return run;
  }

  update(
    id: number,
    patch: { status?: RunStatus; artifacts?: Record<string, string>; summary?: Record<string, unknown> },
  ): RunRecord {
    const cur = this.get(id);
    this.db
      .prepare('UPDATE runs SET status = ?, artifacts = ?, summary = ?, updated_at = ? WHERE id = ?')
      .run(
        patch.status ?? cur.status,
        JSON.stringify(patch.artifacts ?? cur.artifacts),
        patch.summary !== undefined ? JSON.stringify(patch.summary) : cur.summary ? JSON.stringify(cur.summary) : null,
        Date.now(),
        id,
      );
    return this.get(id);
  }

  /** Records (or overwrites, on resume) one epoch's metrics. */
  putEpoch(runId: number, epoch: number, metrics: Record<string, number>): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_epochs (run_id, epoch, metrics) VALUES (?, ?, ?)')
      .run(runId, epoch, JSON.stringify(metrics));
  }

  epochs(runId: number): EpochMetrics[] {
    return (
      this.db.prepare('SELECT epoch, metrics FROM run_epochs WHERE run_id = ? ORDER BY epoch').all(runId) as {
        epoch: number;
        metrics: string;
      }[]
    ).map((r) => ({ epoch: r.epoch, metrics: JSON.parse(r.metrics) as Record<string, number> }));
  }

  /** Records a run's evaluation on a split, replacing the previous one (the leaderboard keeps the latest). */
  putEvaluation(runId: number, split: string, result: object): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_evaluations (run_id, split, result, created_at) VALUES (?, ?, ?, ?)')
      .run(runId, split, JSON.stringify(result), Date.now());
  }

  /** The latest evaluation of every run on a split, by run id. */
  evaluations(split: string): Map<number, unknown> {
    const rows = this.db.prepare('SELECT run_id, result FROM run_evaluations WHERE split = ?').all(split) as {
      run_id: number;
      result: string;
    }[];
    return new Map(rows.map((r) => [r.run_id, JSON.parse(r.result) as unknown]));
  }

  /** Replaces a run's predictions for the given images in one transaction. */
  putPredictions(
    runId: number,
    imageIds: readonly number[],
    preds: readonly Omit<PredictionRecord, 'id' | 'runId'>[],
  ): void {
    const del = this.db.prepare('DELETE FROM predictions WHERE run_id = ? AND image_id = ?');
    const ins = this.db.prepare(
      'INSERT INTO predictions (run_id, image_id, class_id, x, y, w, h, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db
      .transaction(() => {
        for (const id of imageIds) del.run(runId, id);
        for (const p of preds) ins.run(runId, p.imageId, p.classId, p.x, p.y, p.w, p.h, p.score);
      })
      .immediate();
  }

  predictions(runId: number, imageId?: number): PredictionRecord[] {
    const rows = (
      imageId === undefined
        ? this.db.prepare('SELECT * FROM predictions WHERE run_id = ? ORDER BY image_id, id').all(runId)
        : this.db.prepare('SELECT * FROM predictions WHERE run_id = ? AND image_id = ? ORDER BY id').all(runId, imageId)
    ) as {
      id: number;
      run_id: number;
      image_id: number;
      class_id: number;
      x: number;
      y: number;
      w: number;
      h: number;
      score: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      imageId: r.image_id,
      classId: r.class_id,
      x: r.x,
      y: r.y,
      w: r.w,
      h: r.h,
      score: r.score,
    }));
  }
}

interface TeacherRow {
  id: number;
  name: string;
  path: string;
  family: string | null;
  config: string;
  created_at: number;
}
const toTeacher = (r: TeacherRow): TeacherRecord => ({
  id: r.id,
  name: r.name,
  path: r.path,
  family: r.family,
  config: parseStored<TeacherConfig>(teacherConfigSchema, r.config, `teacher ${r.id} (${r.name})`),
  createdAt: r.created_at,
});

/** Registered teacher models (ONNX files the user brings). */
export class TeacherRepo {
  constructor(private readonly db: DB) {}

  add(name: string, path: string, family: string | null, config: TeacherConfig): TeacherRecord {
    const id = Number(
      this.db
        .prepare('INSERT INTO teachers (name, path, family, config, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(name, path, family, JSON.stringify(teacherConfigSchema.parse(config)), Date.now()).lastInsertRowid,
    );
    return this.get(id);
  }

  get(id: number): TeacherRecord {
    const row = this.db.prepare('SELECT * FROM teachers WHERE id = ?').get(id) as TeacherRow | undefined;
    if (!row) throw new StarlingError('NOT_FOUND', `teacher ${id} does not exist`);
    return toTeacher(row);
  }

  list(): TeacherRecord[] {
    return (this.db.prepare('SELECT * FROM teachers ORDER BY id').all() as TeacherRow[]).map(toTeacher);
  }

  setConfig(id: number, config: TeacherConfig): TeacherRecord {
    this.get(id);
    this.db
      .prepare('UPDATE teachers SET config = ? WHERE id = ?')
      .run(JSON.stringify(teacherConfigSchema.parse(config)), id);
    return this.get(id);
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM teachers WHERE id = ?').run(id);
  }
}
