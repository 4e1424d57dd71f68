import { StarlingError } from '../errors.js';
import type { DB } from './db.js';
import type { ClassRecord } from './types.js';

/** A palette that stays distinguishable for the first classes; later ones get golden-angle hues. */
const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
];

export function defaultClassColor(index: number): string {
  if (index < PALETTE.length) return PALETTE[index]!;
  const hue = Math.round((index * 137.508) % 360);
  return hslToHex(hue, 70, 50);
}

function hslToHex(h: number, s: number, l: number): string {
  const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l / 100 - a * Math.max(Math.min(k - 3, 9 - k, 1), -1);
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

interface Row {
  id: number;
  name: string;
  color: string;
  ord: number;
}
const toRecord = (r: Row): ClassRecord => ({ id: r.id, name: r.name, color: r.color, order: r.ord });

export interface ClassUsage {
  boxes: number;
  accepted: number;
  pending: number;
  rejected: number;
  images: number;
}

export interface ClassOpResult {
  kind: 'delete' | 'merge';
  classId: number;
  name: string;
  /** Boxes deleted, moved, or (undo) put back. */
  boxes: number;
  into?: number;
  undone?: boolean;
}

export class ClassRepo {
  constructor(private readonly db: DB) {}

  list(): ClassRecord[] {
    return (this.db.prepare('SELECT * FROM classes ORDER BY ord, id').all() as Row[]).map(toRecord);
  }

  get(id: number): ClassRecord {
    const row = this.db.prepare('SELECT * FROM classes WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new StarlingError('NOT_FOUND', `class ${id} does not exist`);
    return toRecord(row);
  }

  byName(name: string): ClassRecord | undefined {
    const row = this.db.prepare('SELECT * FROM classes WHERE name = ?').get(name) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  create(name: string, color?: string): ClassRecord {
    const trimmed = name.trim();
    if (!trimmed) throw new StarlingError('INVALID_INPUT', 'a class name cannot be empty');
    if (this.byName(trimmed)) throw new StarlingError('CONFLICT', `class "${trimmed}" already exists`);
    const { n, m } = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(MAX(ord), -1) AS m FROM classes').get() as {
      n: number;
      m: number;
    };
    const info = this.db
      .prepare('INSERT INTO classes (name, color, ord) VALUES (?, ?, ?)')
      .run(trimmed, color ?? defaultClassColor(n), m + 1);
    return this.get(Number(info.lastInsertRowid));
  }

  /** Returns the class with this name, creating it (in order) if needed. */
  ensure(name: string): ClassRecord {
    return this.byName(name.trim()) ?? this.create(name);
  }

  update(id: number, patch: { name?: string; color?: string }): ClassRecord {
    const current = this.get(id);
    const name = patch.name?.trim() ?? current.name;
    if (!name) throw new StarlingError('INVALID_INPUT', 'a class name cannot be empty');
    const clash = this.byName(name);
    if (clash && clash.id !== id) throw new StarlingError('CONFLICT', `class "${name}" already exists`);
    if (patch.color !== undefined && !/^#[0-9a-fA-F]{6}$/.test(patch.color)) {
      throw new StarlingError('INVALID_INPUT', `color must look like #rrggbb, got "${patch.color}"`);
    }
    this.db.prepare('UPDATE classes SET name = ?, color = ? WHERE id = ?').run(name, patch.color ?? current.color, id);
    return this.get(id);
  }

  /** Sets the display order (and so the hotkey 1-9 and the export index) to the given id sequence. */
  reorder(ids: number[]): ClassRecord[] {
    const existing = this.list();
    if (
      ids.length !== existing.length ||
      new Set(ids).size !== ids.length ||
      !existing.every((c) => ids.includes(c.id))
    ) {
      throw new StarlingError('INVALID_INPUT', 'reorder needs every class id exactly once');
    }
    const set = this.db.prepare('UPDATE classes SET ord = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((id, i) => set.run(i, id))).immediate();
    return this.list();
  }

  /** How much a delete or merge of the class would touch: its boxes (by review state) and the images they are on. */
  usage(id: number): ClassUsage {
    this.get(id);
    const rows = this.db
      .prepare('SELECT review, COUNT(*) AS n FROM annotations WHERE class_id = ? GROUP BY review')
      .all(id) as { review: 'pending' | 'accepted' | 'rejected'; n: number }[];
    const by = Object.fromEntries(rows.map((r) => [r.review, r.n]));
    const { images } = this.db
      .prepare('SELECT COUNT(DISTINCT image_id) AS images FROM annotations WHERE class_id = ?')
      .get(id) as { images: number };
    return {
      boxes: rows.reduce((a, r) => a + r.n, 0),
      accepted: by.accepted ?? 0,
      pending: by.pending ?? 0,
      rejected: by.rejected ?? 0,
      images,
    };
  }

  /**
   * Deletes a class with all its boxes (and the runs' predictions of it), as one undoable operation: the class
   * row and the boxes are kept in the class history, and `undo` puts them back with their ids.
   */
  removeWithBoxes(id: number): ClassOpResult {
    const cls = this.rawRow(id);
    return this.db
      .transaction(() => {
        const annotations = this.db.prepare('SELECT * FROM annotations WHERE class_id = ?').all(id);
        const predictions = this.db.prepare('SELECT * FROM predictions WHERE class_id = ?').all(id);
        this.db.prepare('DELETE FROM annotations WHERE class_id = ?').run(id);
        this.db.prepare('DELETE FROM classes WHERE id = ?').run(id); // predictions cascade
        this.journal('delete', cls, null, annotations, predictions);
        return { kind: 'delete' as const, classId: id, name: cls.name, boxes: annotations.length };
      })
      .immediate();
  }

  /** Moves every box (and prediction) of class `from` to `into` and deletes `from`, as one undoable operation. */
  merge(from: number, into: number): ClassOpResult {
    if (from === into) throw new StarlingError('INVALID_INPUT', 'cannot merge a class into itself');
    const cls = this.rawRow(from);
    this.get(into);
    return this.db
      .transaction(() => {
        const ids = (table: string) =>
          (this.db.prepare(`SELECT id FROM ${table} WHERE class_id = ?`).all(from) as { id: number }[]).map(
            (r) => r.id,
          );
        const annotations = ids('annotations');
        const predictions = ids('predictions');
        this.db.prepare('UPDATE annotations SET class_id = ? WHERE class_id = ?').run(into, from);
        this.db.prepare('UPDATE predictions SET class_id = ? WHERE class_id = ?').run(into, from);
        this.db.prepare('DELETE FROM classes WHERE id = ?').run(from);
        this.journal('merge', cls, into, annotations, predictions);
        return { kind: 'merge' as const, classId: from, name: cls.name, into, boxes: annotations.length };
      })
      .immediate();
  }

  /** The latest delete or merge not undone yet, if any: what the Undo button offers. */
  lastOp(): { id: number; kind: 'delete' | 'merge'; name: string; boxes: number } | null {
    const row = this.db
      .prepare('SELECT id, kind, class, annotations FROM class_ops WHERE undone = 0 ORDER BY id DESC LIMIT 1')
      .get() as { id: number; kind: 'delete' | 'merge'; class: string; annotations: string } | undefined;
    if (!row) return null;
    const cls = JSON.parse(row.class) as Row;
    return { id: row.id, kind: row.kind, name: cls.name, boxes: (JSON.parse(row.annotations) as unknown[]).length };
  }

  /**
   * Undoes the latest class delete or merge: the class comes back with its id, name, colour and place, and its
   * boxes with theirs (a box whose image was deleted since stays gone). Refused when a class of that name exists
   * again (rename it first).
   */
  undoLastOp(): ClassOpResult | null {
    const last = this.lastOp();
    if (!last) return null;
    const op = this.db.prepare('SELECT * FROM class_ops WHERE id = ?').get(last.id) as {
      kind: 'delete' | 'merge';
      class: string;
      into_id: number | null;
      annotations: string;
      predictions: string;
    };
    const cls = JSON.parse(op.class) as Row;
    const clash = this.byName(cls.name);
    if (clash)
      throw new StarlingError('CONFLICT', `cannot undo: a class named "${cls.name}" exists again; rename it first`);
    const taken = this.db.prepare('SELECT name FROM classes WHERE id = ?').get(cls.id) as { name: string } | undefined;
    if (taken)
      throw new StarlingError('CONFLICT', `cannot undo: "${cls.name}"'s id is now the class "${taken.name}"'s`);
    return this.db
      .transaction(() => {
        this.db
          .prepare('INSERT INTO classes (id, name, color, ord) VALUES (?, ?, ?, ?)')
          .run(cls.id, cls.name, cls.color, cls.ord);
        let boxes = 0;
        if (op.kind === 'delete') {
          boxes = this.restoreRows('annotations', JSON.parse(op.annotations) as Record<string, unknown>[]);
          this.restoreRows('predictions', JSON.parse(op.predictions) as Record<string, unknown>[]);
        } else {
          const back = (table: string, ids: number[]) => {
            const put = this.db.prepare(`UPDATE ${table} SET class_id = ? WHERE id = ? AND class_id = ?`);
            return ids.reduce((n, id) => n + put.run(cls.id, id, op.into_id).changes, 0);
          };
          boxes = back('annotations', JSON.parse(op.annotations) as number[]);
          back('predictions', JSON.parse(op.predictions) as number[]);
        }
        this.db.prepare('UPDATE class_ops SET undone = 1 WHERE id = ?').run(last.id);
        return { kind: op.kind, classId: cls.id, name: cls.name, boxes, undone: true };
      })
      .immediate();
  }

  private rawRow(id: number): Row {
    const row = this.db.prepare('SELECT * FROM classes WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new StarlingError('NOT_FOUND', `class ${id} does not exist`);
    return row;
  }

  private journal(
    kind: 'delete' | 'merge',
    cls: Row,
    into: number | null,
    annotations: unknown[],
    predictions: unknown[],
  ): void {
    this.db
      .prepare(
        'INSERT INTO class_ops (kind, class, into_id, annotations, predictions, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(kind, JSON.stringify(cls), into, JSON.stringify(annotations), JSON.stringify(predictions), Date.now());
  }

  /** Re-inserts rows as they were (same ids), skipping those whose image is gone. Returns how many came back. */
  private restoreRows(table: 'annotations' | 'predictions', rows: Record<string, unknown>[]): number {
    if (!rows.length) return 0;
    const cols = Object.keys(rows[0]!);
    const put = this.db.prepare(
      `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.map(() => '?').join(', ')} WHERE EXISTS (SELECT 1 FROM images WHERE id = ?)` +
        (table === 'predictions' ? ' AND EXISTS (SELECT 1 FROM runs WHERE id = ?)' : ''),
    );
    let n = 0;
    for (const r of rows) {
      const extra = table === 'predictions' ? [r.image_id, r.run_id] : [r.image_id];
      n += put.run(...cols.map((c) => r[c]), ...extra).changes;
    }
    return n;
  }

  /**
   * Deletes a class. Its annotations move to `reassignTo` when given (an undoable merge); otherwise a class that
   * still has annotations is refused, so a click never silently deletes labels.
   */
  delete(id: number, reassignTo?: number): void {
    if (reassignTo !== undefined) {
      this.merge(id, reassignTo);
      return;
    }
    this.get(id);
    this.db
      .transaction(() => {
        const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM annotations WHERE class_id = ?').get(id) as {
          n: number;
        };
        if (n > 0)
          throw new StarlingError(
            'CONFLICT',
            `class ${id} still has ${n} annotations; reassign them to another class first`,
          );
        this.db.prepare('DELETE FROM classes WHERE id = ?').run(id);
      })
      .immediate();
  }
}
