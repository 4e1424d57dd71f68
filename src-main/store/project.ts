import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StarlingError } from '../errors.js';
import { AnnotationRepo } from './annotations.js';
import { ClassRepo } from './classes.js';
import { createDatabase, openDatabase, type DB } from './db.js';
import { ImageRepo } from './images.js';
import { PseudoLabelRepo } from './pseudo-labels.js';
import { RunRepo, TeacherRepo } from './runs.js';
import {
  IMAGE_STATUSES,
  SPLITS,
  type ImageStatus,
  type ProjectCounts,
  type ProjectSettings,
  type Split,
} from './types.js';

export const PROJECT_FILE = 'project.starling';

/**
 * Resolves what a user typed as a project: the `.starling` file itself or the folder holding
 * `project.starling`.
 */
export function resolveProjectFile(p: string): string {
  const abs = path.resolve(p);
  if (abs.endsWith('.starling')) return abs;
  return path.join(abs, PROJECT_FILE);
}

/** One open project: its SQLite file, its root folder and the repositories over it. */
export class ProjectStore {
  readonly classes: ClassRepo;
  readonly images: ImageRepo;
  readonly annotations: AnnotationRepo;
  readonly teachers: TeacherRepo;
  readonly runs: RunRepo;
  readonly pseudoLabels: PseudoLabelRepo;
  /** Image paths are stored relative to this folder when they lie inside it. */
  readonly root: string;

  private constructor(
    readonly db: DB,
    readonly file: string,
  ) {
    this.root = path.dirname(file);
    this.classes = new ClassRepo(db);
    this.images = new ImageRepo(db);
    this.annotations = new AnnotationRepo(db);
    this.teachers = new TeacherRepo(db);
    this.runs = new RunRepo(db);
    this.pseudoLabels = new PseudoLabelRepo(db);
  }

  static create(p: string, name?: string): ProjectStore {
    const file = resolveProjectFile(p);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const projectName = name ?? path.basename(path.dirname(file));
    return new ProjectStore(createDatabase(file, projectName), file);
  }

  static open(p: string): ProjectStore {
    const file = resolveProjectFile(p);
    return new ProjectStore(openDatabase(file), file);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---- settings ---------------------------------------------------------------------------------

  settings(): ProjectSettings {
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    const out: Record<string, unknown> = {};
    for (const r of rows) if (r.key !== 'app') out[r.key] = JSON.parse(r.value);
    return out as ProjectSettings;
  }

  setSetting(key: string, value: unknown): void {
    if (key === 'app') throw new StarlingError('INVALID_INPUT', '"app" is reserved');
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, JSON.stringify(value));
  }

  // ---- paths ------------------------------------------------------------------------------------

  /** The form an absolute image path is stored in: root-relative with forward slashes when possible. */
  storedPath(absPath: string): string {
    const rel = path.relative(this.root, absPath);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
    return path.resolve(absPath);
  }

  /** The absolute file behind a stored image path. */
  absolutePath(stored: string): string {
    return path.isAbsolute(stored) ? stored : path.join(this.root, ...stored.split('/'));
  }

  /** A folder for caches (thumbnails...) that can be deleted at any time. */
  cacheDir(...parts: string[]): string {
    const dir = path.join(this.root, '.starling-cache', ...parts);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  // ---- counts -----------------------------------------------------------------------------------

  /**
   * A fingerprint of a split's evaluation labels: its labeled images, their accepted boxes (ids, classes,
   * coordinates, last change) and the class order, in one aggregate query, so the leaderboard can tell cheaply,
   * even on a large split, whether an evaluation still describes the current labels.
   */
  labelsFingerprint(split: 'train' | 'val' | 'test'): { images: number; digest: string } {
    const row = this.db
      .prepare(
        `SELECT count(DISTINCT i.id) AS images, total(DISTINCT i.id) AS imageIds, count(a.id) AS boxes,
                total(a.id) AS boxIds, total(a.class_id * 7 + a.x + a.y * 3 + a.w * 5 + a.h * 11) AS geometry,
                max(a.updated_at) AS changed,
                (SELECT group_concat(id) FROM (SELECT id FROM classes ORDER BY ord, id)) AS classes
         FROM images i LEFT JOIN annotations a ON a.image_id = i.id AND a.review = 'accepted'
         WHERE i.split = ? AND i.status != 'unlabeled'`,
      )
      .get(split) as Record<string, number | string | null>;
    const digest = crypto.createHash('sha1').update(JSON.stringify(row)).digest('hex').slice(0, 16);
    return { images: Number(row.images), digest };
  }

  /** The summary's counts; boxes per split and class (a join over every accepted box) only when asked. */
  counts(o: { perSplitClass?: boolean } = {}): ProjectCounts {
    const bySplit = Object.fromEntries(SPLITS.map((s) => [s, 0])) as Record<Split, number>;
    for (const r of this.db.prepare('SELECT split, COUNT(*) AS n FROM images GROUP BY split').all() as {
      split: Split;
      n: number;
    }[])
      bySplit[r.split] = r.n;
    const byStatus = Object.fromEntries(IMAGE_STATUSES.map((s) => [s, 0])) as Record<ImageStatus, number>;
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM images GROUP BY status').all() as {
      status: ImageStatus;
      n: number;
    }[])
      byStatus[r.status] = r.n;
    const annotations = { pending: 0, accepted: 0, rejected: 0 };
    for (const r of this.db.prepare('SELECT review, COUNT(*) AS n FROM annotations GROUP BY review').all() as {
      review: keyof typeof annotations;
      n: number;
    }[])
      annotations[r.review] = r.n;
    const perClass = this.db
      .prepare(
        `SELECT c.id AS classId, c.name AS name,
                COALESCE(SUM(a.review = 'accepted'), 0) AS accepted,
                COALESCE(SUM(a.review = 'pending'), 0) AS pending,
                COALESCE(SUM(a.review = 'rejected'), 0) AS rejected,
                COUNT(DISTINCT CASE WHEN a.review != 'rejected' THEN a.image_id END) AS images
         FROM classes c LEFT JOIN annotations a ON a.class_id = c.id
         GROUP BY c.id ORDER BY c.ord, c.id`,
      )
      .all() as ProjectCounts['perClass'];
    const perSplitClass = o.perSplitClass
      ? (this.db
          .prepare(
            `SELECT i.split AS split, a.class_id AS classId, COUNT(*) AS boxes
             FROM annotations a JOIN images i ON i.id = a.image_id
             WHERE a.review = 'accepted' GROUP BY i.split, a.class_id`,
          )
          .all() as NonNullable<ProjectCounts['perSplitClass']>)
      : undefined;
    const images = Object.values(bySplit).reduce((a, b) => a + b, 0);
    return { images, bySplit, byStatus, annotations, perClass, ...(perSplitClass ? { perSplitClass } : {}) };
  }
}
