/**
 * Versioned schema migrations. Migration N brings `PRAGMA user_version` from N-1 to N, in one transaction: SQL,
 * or a function for rewrites SQL cannot express. Never edit a released migration: append a new one.
 */
import type { DB } from './db.js';
import { fromLegacySettings, runSettingsSchema } from '../settings/run-settings.js';

export type Migration = string | ((db: DB) => void);

/**
 * 5: run settings get sections (model, data, augment, optimizer, budget; settings/run-settings.ts): the flat
 * records stored before are rewritten, every default filled in. The `jobs` table, reserved but never written,
 * goes.
 */
function sectionedRunSettings(db: DB): void {
  const rows = db.prepare('SELECT id, config FROM runs').all() as { id: number; config: string }[];
  const put = db.prepare('UPDATE runs SET config = ? WHERE id = ?');
  for (const r of rows) {
    const old = JSON.parse(r.config) as Record<string, unknown>;
    if ('model' in old && 'data' in old) continue;
    put.run(JSON.stringify(runSettingsSchema.parse(fromLegacySettings(old))), r.id);
  }
  db.exec('DROP TABLE IF EXISTS jobs');
}

export const MIGRATIONS: readonly Migration[] = [
  // 1: the initial schema
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE classes (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    color TEXT NOT NULL,
    ord   INTEGER NOT NULL
  );

  CREATE TABLE images (
    id       INTEGER PRIMARY KEY,
    path     TEXT NOT NULL UNIQUE,
    hash     TEXT NOT NULL,
    width    INTEGER NOT NULL CHECK (width > 0),
    height   INTEGER NOT NULL CHECK (height > 0),
    split    TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'val', 'test')),
    status   TEXT NOT NULL DEFAULT 'unlabeled' CHECK (status IN ('unlabeled', 'labeled', 'reviewed')),
    added_at INTEGER NOT NULL
  );
  CREATE INDEX images_split_status ON images (split, status);
  CREATE INDEX images_status ON images (status);
  CREATE INDEX images_hash ON images (hash);

  -- AUTOINCREMENT: ids are never reused, so undo/redo history can always name a box by id.
  CREATE TABLE annotations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id   INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    class_id   INTEGER NOT NULL REFERENCES classes (id) ON DELETE RESTRICT,
    x          REAL NOT NULL,
    y          REAL NOT NULL,
    w          REAL NOT NULL CHECK (w >= 0),
    h          REAL NOT NULL CHECK (h >= 0),
    source     TEXT NOT NULL DEFAULT 'manual'
               CHECK (source = 'manual' OR source LIKE 'teacher:%' OR source LIKE 'model:%'),
    score      REAL,
    review     TEXT NOT NULL DEFAULT 'accepted' CHECK (review IN ('pending', 'accepted', 'rejected')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX annotations_image ON annotations (image_id);
  CREATE INDEX annotations_review_class ON annotations (review, class_id);
  CREATE INDEX annotations_class ON annotations (class_id);
  CREATE INDEX annotations_source ON annotations (source);

  -- Undo/redo history: one group per user edit (several ops), per image, persisted across restarts.
  CREATE TABLE edit_groups (
    id         INTEGER PRIMARY KEY,
    image_id   INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    label      TEXT NOT NULL,
    undone     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX edit_groups_image ON edit_groups (image_id, undone, id);
  CREATE TABLE edit_ops (
    id            INTEGER PRIMARY KEY,
    group_id      INTEGER NOT NULL REFERENCES edit_groups (id) ON DELETE CASCADE,
    annotation_id INTEGER NOT NULL,
    before        TEXT,
    after         TEXT
  );
  CREATE INDEX edit_ops_group ON edit_ops (group_id);

  CREATE TABLE teachers (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    path       TEXT NOT NULL,
    family     TEXT,
    config     TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
  );

  CREATE TABLE runs (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
    config     TEXT NOT NULL,
    artifacts  TEXT NOT NULL DEFAULT '{}',
    summary    TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE run_epochs (
    run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch   INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
  );

  CREATE TABLE predictions (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    x        REAL NOT NULL,
    y        REAL NOT NULL,
    w        REAL NOT NULL,
    h        REAL NOT NULL,
    score    REAL NOT NULL
  );
  CREATE INDEX predictions_run_image ON predictions (run_id, image_id);

  -- Reserved for persisted job state, never written; migration 5 drops it.
  CREATE TABLE jobs (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    params     TEXT NOT NULL,
    progress   TEXT NOT NULL DEFAULT '{}',
    error      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 2: pseudo-label jobs: which images a job (identified by its settings) has finished, for exact resume
  `
  CREATE TABLE pseudo_label_done (
    job_key  TEXT NOT NULL,
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    boxes    INTEGER NOT NULL,
    PRIMARY KEY (job_key, image_id)
  );
  `,
  // 3: the leaderboard: each run's latest evaluation per split (metrics, model size, measured latency)
  `
  CREATE TABLE run_evaluations (
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    split      TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, split)
  );
  `,
  // 4: per-class counts (the project summary, after every change) read this index alone: 0.3 s -> 0.09 s at
  // 300k boxes
  `
  CREATE INDEX annotations_class_review_image ON annotations (class_id, review, image_id);
  `,
  sectionedRunSettings,
  // 6: class deletes and merges, and image deletes, as undoable operations: what each removed (the class row, its
  // boxes, or which boxes and predictions it moved; the image rows and their boxes) is kept so that undo puts it
  // back with the same ids
  `
  ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
  CREATE TABLE image_trash (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    images      TEXT NOT NULL,
    annotations TEXT NOT NULL,
    undone      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
  );
  CREATE TABLE class_ops (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('delete', 'merge')),
    class       TEXT NOT NULL,
    into_id     INTEGER,
    annotations TEXT NOT NULL,
    predictions TEXT NOT NULL,
    undone      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
