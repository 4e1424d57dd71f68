import Database from 'better-sqlite3';
import fs from 'node:fs';
import { StarlingError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export type DB = Database.Database;

/** Marker written into `meta` so that we never mistake another SQLite file for a project. */
const APP_MARKER = 'starling';

function applyPragmas(db: DB): void {
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  // Two connections write to a project at once (the main thread, and a job's worker thread), so every write
  // transaction in the store begins IMMEDIATE: it takes the write lock up front and waits here for the other
  // writer, where a deferred transaction that read first could fail with SQLITE_BUSY when it came to write.
  db.pragma('busy_timeout = 5000');
}

function migrate(db: DB, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StarlingError(
      'NOT_A_PROJECT',
      `${file}: project schema v${current} is newer than this Starling (v${SCHEMA_VERSION}); update Starling`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    const step = db.transaction(() => {
      const m = MIGRATIONS[v]!;
      if (typeof m === 'string') db.exec(m);
      else m(db);
      db.pragma(`user_version = ${v + 1}`);
    });
    step.immediate();
  }
}

/** Creates a new project database. Fails if the file exists. */
export function createDatabase(file: string, name: string): DB {
  if (fs.existsSync(file)) throw new StarlingError('CONFLICT', `${file}: a file already exists there`);
  const db = new Database(file);
  try {
    applyPragmas(db);
    migrate(db, file);
    const now = Date.now();
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?), (?, ?)').run(
      'app',
      JSON.stringify(APP_MARKER),
      'name',
      JSON.stringify(name),
      'createdAt',
      JSON.stringify(now),
    );
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens an existing project database, migrating it forward. Clear errors for anything that is not one. */
export function openDatabase(file: string): DB {
  if (!fs.existsSync(file)) throw new StarlingError('NOT_FOUND', `${file}: no such project file`);
  let db: DB;
  try {
    db = new Database(file, { fileMustExist: true });
    applyPragmas(db);
  } catch (e) {
    throw new StarlingError('NOT_A_PROJECT', `${file}: not a Starling project (${(e as Error).message})`);
  }
  try {
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    const marker = hasMeta
      ? (db.prepare("SELECT value FROM meta WHERE key = 'app'").get() as { value: string } | undefined)
      : undefined;
    if (!marker || JSON.parse(marker.value) !== APP_MARKER) {
      throw new StarlingError('NOT_A_PROJECT', `${file}: an SQLite file, but not a Starling project`);
    }
    migrate(db, file);
    return db;
  } catch (e) {
    db.close();
    if (e instanceof StarlingError) throw e;
    throw new StarlingError('NOT_A_PROJECT', `${file}: not a Starling project (${(e as Error).message})`);
  }
}
