import { StarlingError } from '../errors.js';
import type { DB } from './db.js';
import { settleHandLabeled } from './settle.js';
import type { AnnotationRecord, AnnotationSource, Box, ReviewState } from './types.js';

interface Row {
  id: number;
  image_id: number;
  class_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  source: string;
  score: number | null;
  review: ReviewState;
  created_at: number;
  updated_at: number;
}
const toRecord = (r: Row): AnnotationRecord => ({
  id: r.id,
  imageId: r.image_id,
  classId: r.class_id,
  x: r.x,
  y: r.y,
  w: r.w,
  h: r.h,
  source: r.source,
  score: r.score,
  review: r.review,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface NewAnnotation extends Box {
  imageId: number;
  classId: number;
  source?: AnnotationSource;
  score?: number | null;
  review?: ReviewState;
}

/** One user edit may hold several ops; it is one undo step. */
export type EditOp =
  | {
      op: 'create';
      classId: number;
      x: number;
      y: number;
      w: number;
      h: number;
      source?: string;
      score?: number;
      review?: 'accepted' | 'rejected';
    }
  | { op: 'update'; id: number; classId?: number; x?: number; y?: number; w?: number; h?: number; review?: ReviewState }
  | { op: 'delete'; id: number };

export interface EditResult {
  annotations: AnnotationRecord[];
  /** Ids of annotations created by this edit, in op order. */
  created: number[];
  canUndo: boolean;
  canRedo: boolean;
}

const SOURCE_RE = /^(manual|teacher:.+|model:.+)$/;

function checkBox(b: Box, where: string): void {
  for (const k of ['x', 'y', 'w', 'h'] as const) {
    if (!Number.isFinite(b[k])) throw new StarlingError('INVALID_INPUT', `${where}: ${k} is not a finite number`);
  }
  if (b.w < 0 || b.h < 0) throw new StarlingError('INVALID_INPUT', `${where}: width and height must be >= 0`);
}

/**
 * A box as it is kept: cut to the image when part of it lies outside, refused when nothing of it is inside (a
 * box off the image labels nothing). Images of unknown size keep their boxes as given.
 */
function insideImage<B extends Box>(b: B, image: { width: number | null; height: number | null }, where: string): B {
  const { width, height } = image;
  if (!width || !height) return b;
  const x1 = Math.max(0, b.x);
  const y1 = Math.max(0, b.y);
  const x2 = Math.min(width, b.x + b.w);
  const y2 = Math.min(height, b.y + b.h);
  if (x2 <= x1 || y2 <= y1)
    throw new StarlingError(
      'INVALID_INPUT',
      `${where}: the box (${b.x.toFixed(1)}, ${b.y.toFixed(1)}, ${b.w.toFixed(1)} x ${b.h.toFixed(1)}) lies outside the ${width} x ${height} image`,
    );
  return { ...b, x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

export class AnnotationRepo {
  constructor(private readonly db: DB) {}

  get(id: number): AnnotationRecord {
    const row = this.db.prepare('SELECT * FROM annotations WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new StarlingError('NOT_FOUND', `annotation ${id} does not exist`);
    return toRecord(row);
  }

  forImage(imageId: number): AnnotationRecord[] {
    return (this.db.prepare('SELECT * FROM annotations WHERE image_id = ? ORDER BY id').all(imageId) as Row[]).map(
      toRecord,
    );
  }

  /** Streams annotations, optionally by review state, ordered by image: for exports and training sets. */
  *iterate(review?: ReviewState[]): Generator<AnnotationRecord> {
    const sql = review?.length
      ? `SELECT * FROM annotations WHERE review IN (${review.map(() => '?').join(',')}) ORDER BY image_id, id`
      : 'SELECT * FROM annotations ORDER BY image_id, id';
    for (const row of this.db.prepare(sql).iterate(...(review ?? [])) as Iterable<Row>) yield toRecord(row);
  }

  /** Bulk insert without history (imports, pseudo-label jobs): one transaction. */
  addMany(anns: readonly NewAnnotation[]): number[] {
    const insert = this.db.prepare(
      `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, score, review, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = Date.now();
    return this.db
      .transaction(() =>
        anns.map((a, i) => {
          checkBox(a, `annotation ${i}`);
          const source = a.source ?? 'manual';
          if (!SOURCE_RE.test(source))
            throw new StarlingError('INVALID_INPUT', `annotation ${i}: bad source "${source}"`);
          return Number(
            insert.run(
              a.imageId,
              a.classId,
              a.x,
              a.y,
              a.w,
              a.h,
              source,
              a.score ?? null,
              a.review ?? 'accepted',
              now,
              now,
            ).lastInsertRowid,
          );
        }),
      )
      .immediate();
  }

  /** Sets the review state of many annotations (accept/reject pseudo-labels) in one transaction. */
  setReview(ids: readonly number[], review: ReviewState): number {
    const st = this.db.prepare('UPDATE annotations SET review = ?, updated_at = ? WHERE id = ?');
    const now = Date.now();
    return this.db.transaction(() => ids.reduce((n, id) => n + st.run(review, now, id).changes, 0)).immediate();
  }

  // ---- edits with undo/redo history -------------------------------------------------------------

  /**
   * Applies a user edit on one image as one transaction and one undo step. A new edit discards the
   * image's redo branch. An edit settles an unlabeled image once no box on it is pending (store/settle.ts: a hand-labeled image only).
   */
  edit(imageId: number, ops: readonly EditOp[], label = 'edit'): EditResult {
    const image = this.db.prepare('SELECT width, height FROM images WHERE id = ?').get(imageId) as
      { width: number | null; height: number | null } | undefined;
    if (!image) throw new StarlingError('NOT_FOUND', `image ${imageId} does not exist`);
    const created: number[] = [];
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM edit_groups WHERE image_id = ? AND undone = 1').run(imageId);
        const groupId = Number(
          this.db
            .prepare('INSERT INTO edit_groups (image_id, label, created_at) VALUES (?, ?, ?)')
            .run(imageId, label, Date.now()).lastInsertRowid,
        );
        const logOp = this.db.prepare(
          'INSERT INTO edit_ops (group_id, annotation_id, before, after) VALUES (?, ?, ?, ?)',
        );
        const now = Date.now();
        for (const given of ops) {
          let op = given;
          if (op.op === 'create') {
            checkBox(op, 'new box');
            op = insideImage(op, image, 'new box');
            if (op.source !== undefined && !SOURCE_RE.test(op.source))
              throw new StarlingError('INVALID_INPUT', `new box: bad source "${op.source}"`);
            const id = Number(
              this.db
                .prepare(
                  `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, score, review, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
                )
                .run(
                  imageId,
                  op.classId,
                  op.x,
                  op.y,
                  op.w,
                  op.h,
                  op.source ?? 'manual',
                  op.score ?? null,
                  op.review ?? 'accepted',
                  now,
                  now,
                ).lastInsertRowid,
            );
            created.push(id);
            logOp.run(groupId, id, null, JSON.stringify(this.rawRow(id)));
          } else {
            const before = this.rawRow(op.id);
            if (!before || before.image_id !== imageId) {
              throw new StarlingError('NOT_FOUND', `annotation ${op.id} is not on image ${imageId}`);
            }
            if (op.op === 'delete') {
              this.db.prepare('DELETE FROM annotations WHERE id = ?').run(op.id);
              logOp.run(groupId, op.id, JSON.stringify(before), null);
            } else {
              const next = {
                class_id: op.classId ?? before.class_id,
                x: op.x ?? before.x,
                y: op.y ?? before.y,
                w: op.w ?? before.w,
                h: op.h ?? before.h,
                review: op.review ?? before.review,
              };
              checkBox(next, `annotation ${op.id}`);
              Object.assign(next, insideImage(next, image, `annotation ${op.id}`));
              this.db
                .prepare(
                  'UPDATE annotations SET class_id = ?, x = ?, y = ?, w = ?, h = ?, review = ?, updated_at = ? WHERE id = ?',
                )
                .run(next.class_id, next.x, next.y, next.w, next.h, next.review, now, op.id);
              logOp.run(groupId, op.id, JSON.stringify(before), JSON.stringify(this.rawRow(op.id)));
            }
          }
        }
        settleHandLabeled(this.db, [imageId]);
      })
      .immediate();
    return { ...this.state(imageId), created };
  }

  /** Reverts the image's latest edit. Returns the new state; `changed` is false when there was nothing to undo. */
  undo(imageId: number): EditResult & { changed: boolean } {
    return this.travel(imageId, 'undo');
  }

  /** Re-applies the image's most recently undone edit. */
  redo(imageId: number): EditResult & { changed: boolean } {
    return this.travel(imageId, 'redo');
  }

  /**
   * One step through the history: undo restores the newest applied group's `before` states (last op first);
   * redo restores the oldest undone group's `after` states (first op first).
   */
  private travel(imageId: number, way: 'undo' | 'redo'): EditResult & { changed: boolean } {
    const undo = way === 'undo';
    const group = this.db
      .prepare(
        `SELECT id FROM edit_groups WHERE image_id = ? AND undone = ? ORDER BY id ${undo ? 'DESC' : 'ASC'} LIMIT 1`,
      )
      .get(imageId, undo ? 0 : 1) as { id: number } | undefined;
    if (group) {
      this.db
        .transaction(() => {
          const ops = this.db
            .prepare(`SELECT * FROM edit_ops WHERE group_id = ? ORDER BY id ${undo ? 'DESC' : 'ASC'}`)
            .all(group.id) as OpRow[];
          for (const op of ops) this.restore(op.annotation_id, undo ? op.before : op.after);
          this.db.prepare('UPDATE edit_groups SET undone = ? WHERE id = ?').run(undo ? 1 : 0, group.id);
        })
        .immediate();
    }
    return { ...this.state(imageId), created: [], changed: !!group };
  }

  historyState(imageId: number): { canUndo: boolean; canRedo: boolean } {
    const q = this.db.prepare('SELECT 1 FROM edit_groups WHERE image_id = ? AND undone = ? LIMIT 1');
    return { canUndo: !!q.get(imageId, 0), canRedo: !!q.get(imageId, 1) };
  }

  private state(imageId: number): Omit<EditResult, 'created'> {
    return { annotations: this.forImage(imageId), ...this.historyState(imageId) };
  }

  private rawRow(id: number): Row | undefined {
    return this.db.prepare('SELECT * FROM annotations WHERE id = ?').get(id) as Row | undefined;
  }

  /** Puts an annotation back to a logged state (null = absent), keeping its id. */
  private restore(id: number, json: string | null): void {
    this.db.prepare('DELETE FROM annotations WHERE id = ?').run(id);
    if (json === null) return;
    const r = JSON.parse(json) as Row;
    this.db
      .prepare(
        `INSERT INTO annotations (id, image_id, class_id, x, y, w, h, source, score, review, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.image_id, r.class_id, r.x, r.y, r.w, r.h, r.source, r.score, r.review, r.created_at, r.updated_at);
  }
}

interface OpRow {
  id: number;
  group_id: number;
  annotation_id: number;
  before: string | null;
  after: string | null;
}
