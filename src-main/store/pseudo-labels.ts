/**
 * Pseudo-label storage: a job's results are written per chunk of images in one transaction that replaces the
 * images' pending teacher boxes (never manual, accepted or rejected ones) and records the images as done for
 * the job's key, so a killed job resumes where it stopped without duplicating boxes; another job's markers on
 * those images go, since the boxes they recorded were just replaced. Review operations accept
 * or reject pending boxes one by one, per image, or in bulk by class and score.
 */
import { StarlingError } from '../errors.js';
import type { DB } from './db.js';
import { markDone, withNothingPending } from './settle.js';
import type { ReviewState } from './types.js';

export interface PseudoBox {
  classId: number;
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
  source: string;
}

export interface ReviewFilter {
  ids?: number[];
  imageId?: number;
  classId?: number;
  /** Only boxes scoring at least this. */
  minScore?: number;
  /** Only boxes scoring below this. */
  maxScore?: number;
}

export interface ReviewCounts {
  pending: number;
  accepted: number;
  rejected: number;
  /** Machine-made boxes (teacher sources) by review state and class id. */
  perClass: { classId: number; pending: number; accepted: number; rejected: number }[];
}

export class PseudoLabelRepo {
  constructor(private readonly db: DB) {}

  /** Image ids already finished by the job with this key. */
  done(jobKey: string): Set<number> {
    const rows = this.db.prepare('SELECT image_id FROM pseudo_label_done WHERE job_key = ?').all(jobKey) as {
      image_id: number;
    }[];
    return new Set(rows.map((r) => r.image_id));
  }

  /**
   * One transaction per chunk: replace each image's pending boxes from `source` (this teacher or ensemble, left
   * by an earlier run of it) with `boxes`, and mark the image done. Other teachers' pending boxes stay: running
   * one teacher never discards what another proposed and nobody has reviewed yet. Images listed with no boxes
   * are marked done too (the teachers found nothing).
   */
  writeChunk(jobKey: string, source: string, results: { imageId: number; boxes: PseudoBox[] }[]): void {
    const clear = this.db.prepare("DELETE FROM annotations WHERE image_id = ? AND review = 'pending' AND source = ?");
    const insert = this.db.prepare(
      `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, score, review, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    );
    const mark = this.db.prepare(
      'INSERT OR REPLACE INTO pseudo_label_done (job_key, image_id, boxes) VALUES (?, ?, ?)',
    );
    // Another job of the same source (another threshold) had its boxes replaced here, so its done-marker no
    // longer describes anything: running it again must label the images again. The markers of other sources'
    // jobs go too (the table does not record a job's source); running such a job again only re-makes its own
    // boxes, the same ones.
    const forget = this.db.prepare('DELETE FROM pseudo_label_done WHERE image_id = ? AND job_key != ?');
    const now = Date.now();
    this.db
      .transaction(() => {
        for (const r of results) {
          clear.run(r.imageId, source);
          for (const b of r.boxes) {
            if (![b.x, b.y, b.w, b.h, b.score].every(Number.isFinite) || b.w < 0 || b.h < 0)
              throw new StarlingError('INVALID_INPUT', `image ${r.imageId}: a pseudo-label box is not finite`);
            insert.run(r.imageId, b.classId, b.x, b.y, b.w, b.h, b.source, b.score, now, now);
          }
          mark.run(jobKey, r.imageId, r.boxes.length);
          forget.run(r.imageId, jobKey);
        }
      })
      .immediate();
  }

  /**
   * Sets the review state of the pending teacher boxes matching `f`; returns how many changed. Deciding boxes
   * completes no image (store/settle.ts); with `done`, the images this touched that have nothing left pending are
   * marked done too (`doneImages` counts them).
   */
  review(
    f: ReviewFilter,
    state: Exclude<ReviewState, 'pending'>,
    o: { done?: boolean } = {},
  ): { changed: number; doneImages: number } {
    const { where, params } = this.where(f);
    const now = Date.now();
    return this.db
      .transaction(() => {
        const images = (
          this.db.prepare(`SELECT DISTINCT image_id FROM annotations WHERE ${where}`).all(...params) as {
            image_id: number;
          }[]
        ).map((r) => r.image_id);
        const changed = this.db
          .prepare(`UPDATE annotations SET review = ?, updated_at = ? WHERE ${where}`)
          .run(state, now, ...params).changes;
        const doneImages = o.done ? markDone(this.db, withNothingPending(this.db, images), true).images : 0;
        return { changed, doneImages };
      })
      .immediate();
  }

  /** Puts reviewed teacher boxes matching `f` back to pending (undo of a bulk decision). */
  reopen(f: Omit<ReviewFilter, 'minScore' | 'maxScore'> & { minScore?: number; maxScore?: number }): number {
    const { where, params } = this.where(f, ['accepted', 'rejected']);
    return this.db
      .prepare(`UPDATE annotations SET review = 'pending', updated_at = ? WHERE ${where}`)
      .run(Date.now(), ...params).changes;
  }

  /** How many pending teacher boxes match `f`: what `review(f, …)` would change (asked before a bulk accept). */
  countPending(f: ReviewFilter): number {
    const { where, params } = this.where(f);
    return this.db
      .prepare(`SELECT COUNT(*) FROM annotations WHERE ${where}`)
      .pluck()
      .get(...params) as number;
  }

  counts(): ReviewCounts {
    const rows = this.db
      .prepare(
        "SELECT class_id, review, COUNT(*) AS n FROM annotations WHERE source LIKE 'teacher:%' GROUP BY class_id, review",
      )
      .all() as { class_id: number; review: ReviewState; n: number }[];
    const per = new Map<number, { classId: number; pending: number; accepted: number; rejected: number }>();
    const total = { pending: 0, accepted: 0, rejected: 0 };
    for (const r of rows) {
      const c = per.get(r.class_id) ?? { classId: r.class_id, pending: 0, accepted: 0, rejected: 0 };
      c[r.review] += r.n;
      total[r.review] += r.n;
      per.set(r.class_id, c);
    }
    return { ...total, perClass: [...per.values()].sort((a, b) => a.classId - b.classId) };
  }

  private where(f: ReviewFilter, states: ReviewState[] = ['pending']) {
    const parts = [`review IN (${states.map(() => '?').join(',')})`, "source LIKE 'teacher:%'"];
    const params: (number | string)[] = [...states];
    if (f.ids) {
      if (!f.ids.length) parts.push('0');
      else {
        parts.push(`id IN (${f.ids.map(() => '?').join(',')})`);
        params.push(...f.ids);
      }
    }
    const add = (sql: string, v: number) => {
      parts.push(sql);
      params.push(v);
    };
    if (f.imageId !== undefined) add('image_id = ?', f.imageId);
    if (f.classId !== undefined) add('class_id = ?', f.classId);
    if (f.minScore !== undefined) add('score >= ?', f.minScore);
    if (f.maxScore !== undefined) add('score < ?', f.maxScore);
    return { where: parts.join(' AND '), params };
  }
}
