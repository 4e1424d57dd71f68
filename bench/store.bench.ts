/**
 * Store figures for issue "Foundation": adding 100,000 images and opening that project.
 * Reference, in the same run: the bare better-sqlite3 driver inserting the same rows with one prepared
 * statement in one transaction (the floor for any store on SQLite). Printed as a ratio.
 *
 *   npm run bench:store            (100,000 images)
 *   npm run bench:store -- 20000   (another count)
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ProjectStore } from '../src-main/store/project.js';
import type { NewImage } from '../src-main/store/images.js';

const N = Number(process.argv[2] ?? 100_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'starling-bench-store-'));

const rows: NewImage[] = Array.from({ length: N }, (_, i) => ({
  path: `images/${String(Math.floor(i / 1000)).padStart(3, '0')}/img_${String(i).padStart(6, '0')}.jpg`,
  hash: (i * 2654435761).toString(16).padStart(40, '0'),
  width: 1920,
  height: 1080,
  split: i % 10 === 0 ? 'val' : i % 10 === 1 ? 'test' : 'train',
}));

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
}

// Reference: bare driver, same schema shape, same pragmas.
const ref = new Database(path.join(dir, 'ref.sqlite'));
ref.pragma('journal_mode = WAL');
ref.pragma('synchronous = NORMAL');
ref.exec(
  `CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, width INTEGER, height INTEGER,
   split TEXT, status TEXT, added_at INTEGER);
   CREATE INDEX a ON images (split, status); CREATE INDEX b ON images (status); CREATE INDEX c ON images (hash);`,
);
const [, refInsertMs] = time(() => {
  const st = ref.prepare(
    'INSERT INTO images (path, hash, width, height, split, status, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const now = Date.now();
  ref.transaction(() => rows.forEach((r) => st.run(r.path, r.hash, r.width, r.height, r.split, 'unlabeled', now)))();
});
ref.close();

const store = ProjectStore.create(path.join(dir, 'proj'), 'bench');
const [, insertMs] = time(() => store.images.addMany(rows));
store.close();

// Opening = what the app does when a project is picked: open + migrate check + counts + first gallery page.
const [opened, openMs] = time(() => {
  const s = ProjectStore.open(path.join(dir, 'proj'));
  const counts = s.counts();
  const firstPage = s.images.list({}, 0, 200);
  return { s, counts, firstPage };
});
const [, filteredMs] = time(() => opened.s.images.count({ split: 'val', status: 'unlabeled' }));
const [, deepPageMs] = time(() => opened.s.images.list({ split: 'train' }, Math.floor(N * 0.7), 200));
opened.s.close();

const per10k = (ms: number) => (ms / N) * 10_000;
const fileMb = fs.statSync(path.join(dir, 'proj', 'project.starling')).size / 1e6;
console.log(`store benchmark: ${N.toLocaleString()} images (node ${process.versions.node}, ${os.cpus().length} cpus)`);
console.log(
  `  add images       ${insertMs.toFixed(0).padStart(6)} ms   ${per10k(insertMs).toFixed(1)} ms per 10k   ` +
    `ratio vs bare driver ${(insertMs / refInsertMs).toFixed(2)}x (driver: ${refInsertMs.toFixed(0)} ms)`,
);
console.log(
  `  open project     ${openMs.toFixed(0).padStart(6)} ms   ${per10k(openMs).toFixed(1)} ms per 10k   (open + counts + first page)`,
);
console.log(`  filtered count   ${filteredMs.toFixed(1).padStart(6)} ms`);
console.log(`  page at 70%      ${deepPageMs.toFixed(1).padStart(6)} ms   (offset ${Math.floor(N * 0.7)})`);
console.log(`  project file     ${fileMb.toFixed(1)} MB`);
const ok = per10k(insertMs) < 1000 && per10k(openMs) < 1000;
console.log(ok ? '  target (< 1 s per 10k images to add and to open): met' : '  target NOT met');

// The gallery's faceted counts with boxes: 3 per image over 20 classes, a quarter of them pending teacher boxes.
// Reference, in the same run: the project summary (`counts`), which the app already runs on every change.
const boxed = ProjectStore.open(path.join(dir, 'proj'));
const classIds = Array.from({ length: 20 }, (_, i) => boxed.classes.create(`c${i}`).id);
const ids = boxed.images.ids();
boxed.annotations.addMany(
  ids.flatMap((imageId, k) =>
    [0, 1, 2].map((j) => ({
      imageId,
      classId: classIds[(k + j * 7) % 20]!,
      x: 0,
      y: 0,
      w: 5,
      h: 5,
      ...(k % 4 === 0 ? { source: 'teacher:1', score: (k % 10) / 10, review: 'pending' as const } : {}),
    })),
  ),
);
const [, countsMs] = time(() => boxed.counts());
const facetFilters = [
  {},
  { split: 'val' as const },
  { split: 'val' as const, classId: classIds[3]! },
  { status: 'pending' as const, minScore: 0.5 },
];
console.log(`  with ${(ids.length * 3).toLocaleString()} boxes: project summary (reference) ${countsMs.toFixed(0)} ms`);
for (const f of facetFilters) {
  const [, ms] = time(() => boxed.images.facets(f));
  const [, pageMs] = time(() => boxed.images.list(f, Math.floor(boxed.images.count(f) / 2), 200));
  console.log(
    `  facets ${JSON.stringify(f).padEnd(38)} ${ms.toFixed(0).padStart(5)} ms   ratio vs summary ${(ms / countsMs).toFixed(2)}x   ` +
      `page at half ${pageMs.toFixed(0)} ms`,
  );
}
boxed.close();
fs.rmSync(dir, { recursive: true, force: true });
