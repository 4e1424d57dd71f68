import { markDone } from './settle.js';
import { StarlingError } from '../errors.js';
import type { DB } from './db.js';
import type { ImageRecord, ImageStatus, Split, ThumbBox } from './types.js';

interface Row {
  id: number;
  path: string;
  hash: string;
  width: number;
  height: number;
  split: Split;
  status: ImageStatus;
  added_at: number;
  has_pending?: number;
  has_decided?: number;
}
const toRecord = (r: Row): ImageRecord => ({
  id: r.id,
  path: r.path,
  hash: r.hash,
  width: r.width,
  height: r.height,
  split: r.split,
  status: r.status,
  addedAt: r.added_at,
  ...(r.has_pending !== undefined ? { progress: progressOf(r) } : {}),
});

/** Where an image stands: done, partly reviewed, pseudo-labels waiting, or nothing yet. */
function progressOf(r: Row): NonNullable<ImageRecord['progress']> {
  if (r.status !== 'unlabeled') return r.has_pending ? 'partial' : 'done';
  if (r.has_decided) return 'partial';
  return r.has_pending ? 'pending' : 'new';
}

export interface NewImage {
  path: string;
  hash: string;
  width: number;
  height: number;
  split?: Split;
  status?: ImageStatus;
}

/**
 * Gallery filters. `status: 'pending'` means "has pseudo-labels waiting for review"; `partial`, "not done, but some
 * of its boxes are decided" (partly reviewed).
 */
export interface ImageFilter {
  split?: Split;
  status?: ImageStatus | 'pending' | 'partial';
  classId?: number;
  source?: string;
  minScore?: number;
  maxScore?: number;
  pathContains?: string;
  /** Images with a pending box scoring at least this (the review queue at its slider). */
  pendingMinScore?: number;
  /** Gallery order: as added (default), by file name (path), `-` for descending. Not a condition. */
  sort?: ImageSort;
}

type Clause = { parts: string[]; params: unknown[] };

export const IMAGE_SORTS = ['added', '-added', 'name', '-name'] as const;
export type ImageSort = (typeof IMAGE_SORTS)[number];

/** The order's key columns (the id breaks ties, so every order is total) and direction. */
function orderOf(sort: ImageSort | undefined): { key: string; desc: boolean } {
  const s = sort ?? 'added';
  return { key: s.endsWith('name') ? '(i.path, i.id)' : '(i.id)', desc: s.startsWith('-') };
}
const orderBy = (o: { key: string; desc: boolean }) =>
  o.key
    .slice(1, -1)
    .split(', ')
    .map((c) => `${c}${o.desc ? ' DESC' : ''}`)
    .join(', ');
/** The key's values for image `id`, as the row-value comparison wants them. */
function keyValues(db: DB, o: { key: string }, id: number): unknown[] {
  if (o.key === '(i.id)') return [id];
  const path = db.prepare('SELECT path FROM images WHERE id = ?').pluck().get(id) as string | undefined;
  return [path ?? '', id];
}

/**
 * A correlated look-up of one image's boxes, by the image index. Left to itself SQLite may pick the index on
 * the box condition (class, review) and scan it once per image: minutes at 100k images.
 */
const BOXES_OF_IMAGE = 'annotations a INDEXED BY annotations_image';
const DECIDED = `EXISTS (SELECT 1 FROM ${BOXES_OF_IMAGE} WHERE a.image_id = i.id AND a.review != 'pending')`;
const PENDING = `EXISTS (SELECT 1 FROM ${BOXES_OF_IMAGE} WHERE a.image_id = i.id AND a.review = 'pending')`;

/** Conditions on the image row itself: split, status (pending: has a pending box), path. */
function imageConditions(f: ImageFilter): Clause {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.split) {
    parts.push('i.split = ?');
    params.push(f.split);
  }
  if (f.status === 'pending') {
    parts.push(`EXISTS (SELECT 1 FROM ${BOXES_OF_IMAGE} WHERE a.image_id = i.id AND a.review = 'pending')`);
  } else if (f.status === 'partial') {
    // As the badge says it (progressOf): some boxes decided but not done, or done with boxes pending again.
    parts.push(`((i.status = 'unlabeled' AND ${DECIDED}) OR (i.status != 'unlabeled' AND ${PENDING}))`);
  } else if (f.status) {
    parts.push('i.status = ?');
    params.push(f.status);
  }
  if (f.pendingMinScore !== undefined) {
    parts.push(
      `EXISTS (SELECT 1 FROM ${BOXES_OF_IMAGE} WHERE a.image_id = i.id AND a.review = 'pending' AND COALESCE(a.score, 1) >= ?)`,
    );
    params.push(f.pendingMinScore);
  }
  if (f.pathContains) {
    parts.push("i.path LIKE ? ESCAPE '\\'");
    params.push(`%${f.pathContains.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
  }
  return { parts, params };
}

/** Conditions on one (non-rejected) box `a` of the image: class, source and score talk about the same box. */
function boxConditions(f: ImageFilter): Clause {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.classId !== undefined) {
    parts.push('a.class_id = ?');
    params.push(f.classId);
  }
  if (f.source) {
    if (f.source === 'teacher' || f.source === 'model') {
      parts.push('a.source LIKE ?');
      params.push(`${f.source}:%`);
    } else {
      parts.push('a.source = ?');
      params.push(f.source);
    }
  }
  if (f.minScore !== undefined) {
    parts.push('a.score >= ?');
    params.push(f.minScore);
  }
  if (f.maxScore !== undefined) {
    parts.push('a.score <= ?');
    params.push(f.maxScore);
  }
  return { parts, params };
}

function whereClause(f: ImageFilter): { sql: string; params: unknown[] } {
  const img = imageConditions(f);
  const box = boxConditions(f);
  const parts = [...img.parts];
  const boxWhere = `a.review != 'rejected' AND ${box.parts.join(' AND ')}`;
  // A class is selective and indexed: its boxes are read once (IN). Otherwise each image's few boxes are looked up.
  if (box.parts.length)
    parts.push(
      f.classId !== undefined
        ? `i.id IN (SELECT a.image_id FROM annotations a WHERE ${boxWhere})`
        : `EXISTS (SELECT 1 FROM ${BOXES_OF_IMAGE} WHERE a.image_id = i.id AND ${boxWhere})`,
    );
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params: [...img.params, ...box.params] };
}

/** How many images each choice of a gallery filter would show, the other filters applied as they are. */
export interface ImageFacets {
  split: Record<string, number>;
  status: Record<string, number>;
  classes: { classId: number; images: number }[];
  source: Record<string, number>;
  /** Images matching the filter as a whole. */
  total: number;
}

export class ImageRepo {
  constructor(private readonly db: DB) {}

  /** Inserts many images in one transaction; returns their ids in input order. Duplicate paths are refused. */
  addMany(images: readonly NewImage[]): number[] {
    const insert = this.db.prepare(
      'INSERT INTO images (path, hash, width, height, split, status, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const now = Date.now();
    return this.db
      .transaction(() =>
        images.map((im) => {
          try {
            return Number(
              insert.run(im.path, im.hash, im.width, im.height, im.split ?? 'train', im.status ?? 'unlabeled', now)
                .lastInsertRowid,
            );
          } catch (e) {
            if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
              throw new StarlingError('CONFLICT', `${im.path}: this image is already in the project`);
            }
            throw e;
          }
        }),
      )
      .immediate();
  }

  get(id: number): ImageRecord {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new StarlingError('NOT_FOUND', `image ${id} does not exist`);
    return toRecord(row);
  }

  byPath(path: string): ImageRecord | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE path = ?').get(path) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Every stored path, for duplicate checks during import. */
  allPaths(): Set<string> {
    return new Set(this.db.prepare('SELECT path FROM images').pluck().all() as string[]);
  }

  count(filter: ImageFilter = {}): number {
    const w = whereClause(filter);
    return (
      (this.db
        .prepare(`SELECT COUNT(*) FROM images i ${w.sql}`)
        .pluck()
        .get(...w.params) as number) ?? 0
    );
  }

  list(filter: ImageFilter = {}, offset = 0, limit = 100): ImageRecord[] {
    const w = whereClause(filter);
    const rows = this.db
      .prepare(
        `SELECT i.*, ${PENDING} AS has_pending, ${DECIDED} AS has_decided FROM images i ${w.sql} ORDER BY ${orderBy(orderOf(filter.sort))} LIMIT ? OFFSET ?`,
      )
      .all(...w.params, limit, offset) as Row[];
    return rows.map(toRecord);
  }

  /** Attaches each image's boxes that are not rejected (thumbnail overlays), read through the image index. */
  withBoxes(items: ImageRecord[]): ImageRecord[] {
    if (!items.length) return items;
    const rows = this.db
      .prepare(
        `SELECT image_id, class_id, x, y, w, h, review FROM annotations INDEXED BY annotations_image
         WHERE image_id IN (${items.map(() => '?').join(',')}) AND review != 'rejected'`,
      )
      .all(...items.map((i) => i.id)) as {
      image_id: number;
      class_id: number;
      x: number;
      y: number;
      w: number;
      h: number;
      review: string;
    }[];
    const by = new Map<number, ThumbBox[]>();
    for (const r of rows) {
      const list = by.get(r.image_id) ?? [];
      list.push({
        c: r.class_id,
        x: r.x,
        y: r.y,
        w: r.w,
        h: r.h,
        ...(r.review === 'pending' ? { pending: true as const } : {}),
      });
      by.set(r.image_id, list);
    }
    return items.map((im) => ({ ...im, boxes: by.get(im.id) ?? [] }));
  }

  /** Ids only, in gallery order: for navigation (A/D) and bulk actions. */
  ids(filter: ImageFilter = {}): number[] {
    const w = whereClause(filter);
    return this.db
      .prepare(`SELECT i.id FROM images i ${w.sql} ORDER BY ${orderBy(orderOf(filter.sort))}`)
      .pluck()
      .all(...w.params) as number[];
  }

  /**
   * The images before and after `id` in a filtered list (gallery order), whether or not `id` itself is in it:
   * the review queue steps on from an image whose last pending box was just decided. `wrap` goes round the ends.
   */
  around(id: number, filter: ImageFilter = {}, wrap = false): { prev: number | null; next: number | null } {
    const w = whereClause(filter);
    const and = w.sql ? w.sql + ' AND' : 'WHERE';
    const o = orderOf(filter.sort);
    const at = keyValues(this.db, o, id);
    const marks = at.map(() => '?').join(', ');
    // Before and after in the gallery's order; "before" in a descending order is a larger key.
    const [lt, gt] = o.desc ? ['>', '<'] : ['<', '>'];
    const back = orderBy({ key: o.key, desc: !o.desc });
    const fwd = orderBy(o);
    const one = (cmp: string, order: string) =>
      (this.db
        .prepare(`SELECT i.id FROM images i ${and} ${o.key} ${cmp} (${marks}) ORDER BY ${order} LIMIT 1`)
        .pluck()
        .get(...w.params, ...at) as number | undefined) ?? null;
    let prev = one(lt, back);
    let next = one(gt, fwd);
    if (wrap) {
      // Past the ends: the last image (for prev) and the first (for next), other than this one.
      prev ??= one(gt, back);
      next ??= one(lt, fwd);
    }
    return { prev, next };
  }

  /**
   * Counts for the gallery's filter menus: for each filter (split, status, class, source), the images each of its
   * choices would show with the other filters as they are, as faceted search counts. One grouped query each.
   */
  facets(f: ImageFilter): ImageFacets {
    const rows = (sql: string, params: unknown[]) => this.db.prepare(sql).all(...params) as { k: string; n: number }[];
    const grouped = (sql: string, params: unknown[]) =>
      Object.fromEntries(rows(sql, params).map((r) => [String(r.k), r.n]));
    const without = <K extends keyof ImageFilter>(k: K): ImageFilter => ({ ...f, [k]: undefined });

    const bySplit = whereClause(without('split'));
    const split = grouped(
      `SELECT i.split AS k, COUNT(*) AS n FROM images i ${bySplit.sql} GROUP BY i.split`,
      bySplit.params,
    );
    const byStatus = whereClause(without('status'));
    const status = grouped(
      `SELECT i.status AS k, COUNT(*) AS n FROM images i ${byStatus.sql} GROUP BY i.status`,
      byStatus.params,
    );
    status.pending = this.count({ ...f, status: 'pending' });
    status.partial = this.count({ ...f, status: 'partial' });

    // Class and source count images having a box of that class (source) that also meets the other box filters.
    const boxFacet = (key: 'classId' | 'source', expr: string) => {
      const rest = without(key);
      const img = imageConditions(rest);
      const box = boxConditions(rest);
      const where = ["a.review != 'rejected'", ...box.parts, ...img.parts].join(' AND ');
      const join = img.parts.length ? 'JOIN images i ON i.id = a.image_id' : ''; // a third faster without
      return rows(
        `SELECT ${expr} AS k, COUNT(DISTINCT a.image_id) AS n FROM annotations a ${join} WHERE ${where} GROUP BY k`,
        [...box.params, ...img.params],
      );
    };
    const classes = boxFacet('classId', 'a.class_id').map((r) => ({ classId: Number(r.k), images: r.n }));
    const source = Object.fromEntries(
      boxFacet(
        'source',
        "CASE WHEN a.source = 'manual' THEN 'manual' WHEN a.source LIKE 'teacher:%' THEN 'teacher' ELSE 'model' END",
      ).map((r) => [r.k, r.n]),
    );
    return { split, status, classes, source, total: this.count(f) };
  }

  /** Position of an image within a filtered list (to scroll the gallery to it), or -1. */
  indexOf(id: number, filter: ImageFilter = {}): number {
    const w = whereClause(filter);
    const inList = this.db
      .prepare(`SELECT 1 FROM images i ${w.sql ? w.sql + ' AND' : 'WHERE'} i.id = ?`)
      .get(...w.params, id);
    if (!inList) return -1;
    const o = orderOf(filter.sort);
    const at = keyValues(this.db, o, id);
    return this.db
      .prepare(
        `SELECT COUNT(*) FROM images i ${w.sql ? w.sql + ' AND' : 'WHERE'} ${o.key} ${o.desc ? '>' : '<'} (${at.map(() => '?').join(', ')})`,
      )
      .pluck()
      .get(...w.params, ...at) as number;
  }

  setSplit(ids: readonly number[], split: Split): void {
    const st = this.db.prepare('UPDATE images SET split = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => st.run(split, id))).immediate();
  }

  /** Marks images done (pending boxes on them rejected) or reopens them (store/settle.ts). */
  markDone(ids: readonly number[], done: boolean): { images: number; rejected: number } {
    return markDone(this.db, ids, done);
  }

  /**
   * Marks images done as negatives (nothing on them: pending boxes rejected). An image holding an accepted box
   * is not a negative and is left as it is, counted in `skipped`.
   */
  markNegative(ids: readonly number[]): { images: number; rejected: number; skipped: number } {
    const holds = this.db.prepare("SELECT 1 FROM annotations WHERE image_id = ? AND review = 'accepted' LIMIT 1");
    const empty = ids.filter((id) => !holds.get(id));
    const r = empty.length ? markDone(this.db, empty, true) : { images: 0, rejected: 0 };
    return { ...r, skipped: ids.length - empty.length };
  }

  setStatus(ids: readonly number[], status: ImageStatus): void {
    const st = this.db.prepare('UPDATE images SET status = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => st.run(status, id))).immediate();
  }

  remove(ids: readonly number[]): void {
    const st = this.db.prepare('DELETE FROM images WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => st.run(id))).immediate();
  }

  /**
   * Deletes images from the project (never their files), as one undoable operation: their rows and boxes go to
   * the trash, and `undoDelete` puts them back with their ids. Their edit history, predictions and
   * pseudo-label markers go for good.
   */
  deleteToTrash(ids: readonly number[]): { images: number; boxes: number } {
    return this.db
      .transaction(() => {
        const images: unknown[] = [];
        const annotations: unknown[] = [];
        const row = this.db.prepare('SELECT * FROM images WHERE id = ?');
        const boxes = this.db.prepare('SELECT * FROM annotations WHERE image_id = ?');
        const del = this.db.prepare('DELETE FROM images WHERE id = ?');
        for (const id of new Set(ids)) {
          const im = row.get(id);
          if (!im) throw new StarlingError('NOT_FOUND', `image ${id} does not exist`);
          images.push(im);
          annotations.push(...boxes.all(id));
          del.run(id);
        }
        this.db
          .prepare('INSERT INTO image_trash (images, annotations, created_at) VALUES (?, ?, ?)')
          .run(JSON.stringify(images), JSON.stringify(annotations), Date.now());
        return { images: images.length, boxes: annotations.length };
      })
      .immediate();
  }

  /**
   * Puts back the latest deleted images with their boxes. An image whose path is in the project again (added
   * since) stays out, and is counted in `skipped`.
   */
  undoDelete(): { images: number; boxes: number; skipped: number } | null {
    const last = this.db
      .prepare('SELECT id, images, annotations FROM image_trash WHERE undone = 0 ORDER BY id DESC LIMIT 1')
      .get() as { id: number; images: string; annotations: string } | undefined;
    if (!last) return null;
    return this.db
      .transaction(() => {
        const insert = (table: string, r: Record<string, unknown>) => {
          const cols = Object.keys(r);
          return this.db
            .prepare(`INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
            .run(...cols.map((c) => r[c])).changes;
        };
        const back = new Set<number>();
        let skipped = 0;
        for (const im of JSON.parse(last.images) as Record<string, unknown>[]) {
          if (insert('images', im)) back.add(im.id as number);
          else skipped++;
        }
        let boxes = 0;
        for (const a of JSON.parse(last.annotations) as Record<string, unknown>[]) {
          // A box whose class was deleted since stays out with it.
          const classOk = this.db.prepare('SELECT 1 FROM classes WHERE id = ?').get(a.class_id);
          if (back.has(a.image_id as number) && classOk) boxes += insert('annotations', a);
        }
        this.db.prepare('UPDATE image_trash SET undone = 1 WHERE id = ?').run(last.id);
        return { images: back.size, boxes, skipped };
      })
      .immediate();
  }
}
