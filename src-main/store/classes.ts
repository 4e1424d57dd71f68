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

  /**
   * Deletes a class. Its annotations move to `reassignTo` when given; otherwise a class that still has
   * annotations is refused, so a click never silently deletes labels.
   */
  delete(id: number, reassignTo?: number): void {
    this.get(id);
    this.db
      .transaction(() => {
        if (reassignTo !== undefined) {
          if (reassignTo === id) throw new StarlingError('INVALID_INPUT', 'cannot reassign a class to itself');
          this.get(reassignTo);
          this.db.prepare('UPDATE annotations SET class_id = ? WHERE class_id = ?').run(reassignTo, id);
          this.db.prepare('UPDATE predictions SET class_id = ? WHERE class_id = ?').run(reassignTo, id);
        } else {
          const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM annotations WHERE class_id = ?').get(id) as {
            n: number;
          };
          if (n > 0) {
            throw new StarlingError(
              'CONFLICT',
              `class ${id} still has ${n} annotations; reassign them to another class first`,
            );
          }
        }
        this.db.prepare('DELETE FROM classes WHERE id = ?').run(id);
      })
      .immediate();
  }
}
