import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src-main/engine/checkpoint.js';
import { detectorCard } from '../../src-main/models/card.js';
import { buildDetector } from '../../src-main/models/zoo.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { leaderboard } from '../../src-main/eval/leaderboard.js';
import { evaluateRun } from '../../src-main/eval/run-evaluation.js';
import { formatLeaderboard } from '../../src-main/cli/runs.js';
import { resolveRunSettings } from '../../src-main/settings/run-settings.js';
import { tempDir, writeJpegs } from '../helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A run whose best checkpoint holds a freshly initialised detector (evaluation needs weights, not skill). */
function makeRun(store: ProjectStore, name: string, config: Record<string, unknown>, imgsz: number) {
  const model = buildDetector(config);
  const file = path.join(store.root, 'runs', name, 'best.safetensors');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  saveCheckpoint(file, {
    tensors: new Map([...model.namedTensors()].map(([n, p]) => [`ema/${n}`, { shape: [...p.shape], data: p.data }])),
    metadata: {},
  });
  const run = store.runs.create(
    name,
    resolveRunSettings({ model: config, data: { imgsz, batch: 4 }, optimizer: { name: 'AdamW' } }),
  );
  store.runs.update(run.id, { status: 'done', artifacts: { best: file }, summary: { epochs: 3 } });
  store.runs.putEpoch(run.id, 0, { seconds: 12.5 });
  store.runs.putEpoch(run.id, 1, { seconds: 10 });
  return run;
}

describe('runs leaderboard', () => {
  it('ranks runs by one evaluator, with size, measured latency and train time, and marks stale evaluations', async () => {
    const store = ProjectStore.create(`${tmp.dir}/p`);
    try {
      const files = await writeJpegs(`${tmp.dir}/p/images`, 3, { width: 80, height: 60 });
      const cls = store.classes.create('thing');
      const ids = store.images.addMany(
        files.map((f, i) => ({
          path: path.relative(`${tmp.dir}/p`, f),
          hash: `h${i}`,
          width: 80,
          height: 60,
          split: 'val' as const,
          status: 'labeled' as const,
        })),
      );
      store.annotations.addMany(ids.map((id) => ({ imageId: id, classId: cls.id, x: 10, y: 10, w: 30, h: 20 })));
      const config = { backbone: 'starnet_s050', head: 'yolo' as const, scale: 'n' as const, nc: 1 };
      const a = makeRun(store, 'a', config, 64);
      const b = makeRun(store, 'b', { ...config, backbone: 'shufflenetv2_x0_5' }, 96);
      store.runs.create('queued', resolveRunSettings({ model: config, data: { imgsz: 64 } })); // never trained

      let board = leaderboard(store, 'val');
      expect(board.images).toBe(3);
      expect(board.rows.map((r) => r.name)).toEqual(['a', 'b', 'queued']);
      expect(board.rows.every((r) => r.evaluation === null && r.stale === null)).toBe(true);
      expect(board.rows[0]!.trainSeconds).toBeCloseTo(22.5);
      expect(board.rows[2]!.hasCheckpoint).toBe(false);

      const ea = await evaluateRun(store, a.id, 'val');
      await evaluateRun(store, b.id, 'val', undefined, ['Train yolo11']);
      await expect(evaluateRun(store, board.rows[2]!.runId, 'val')).rejects.toThrow(/has no checkpoint yet/);
      expect(ea.latency.concurrentJobs).toEqual([]);
      const card = detectorCard(config, 64);
      expect(ea.parameters).toBe(card.parameters);
      expect(ea.gflops).toBeCloseTo(card.gflops, 6);
      expect(ea.latency.inferenceMs).toBeGreaterThan(0);
      expect(ea.latency.preprocessMs).toBeGreaterThan(0);
      expect(ea.latency.machine).toMatch(/logical cores/);

      board = leaderboard(store, 'val');
      const [ra, rb] = board.rows;
      expect(ra!.evaluation?.coco).toEqual(ea.coco);
      expect(ra!.parameters).toBe(card.parameters);
      // Different backbones and image sizes: different sizes, both measured.
      expect(rb!.parameters).not.toBe(ra!.parameters);
      expect(rb!.evaluation!.imgsz).toBe(96);
      // Measured while a training ran: marked, so it is not compared with idle figures unawares.
      expect(rb!.evaluation!.latency.concurrentJobs).toEqual(['Train yolo11']);
      expect(formatLeaderboard(board)).toMatch(/ ms\*[\s\S]*measured while another job ran/);
      expect(ra!.stale).toBeNull();
      // Another split has its own evaluations.
      expect(leaderboard(store, 'test').rows.every((r) => r.evaluation === null)).toBe(true);

      // A label edit on the split makes every evaluation on it stale.
      store.annotations.addMany([{ imageId: ids[0]!, classId: cls.id, x: 40, y: 30, w: 10, h: 10 }]);
      board = leaderboard(store, 'val');
      expect(board.rows[0]!.stale).toMatch(/val labels changed/);
      expect(board.rows[1]!.stale).toMatch(/val labels changed/);
      expect(formatLeaderboard(board)).toMatch(/stale: the val labels changed/);

      // Re-evaluating clears it; a newer checkpoint makes that run's evaluation stale again.
      await evaluateRun(store, a.id, 'val');
      await evaluateRun(store, b.id, 'val');
      expect(leaderboard(store, 'val').rows[0]!.stale).toBeNull();
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(store.runs.get(a.id).artifacts.best!, later, later);
      board = leaderboard(store, 'val');
      expect(board.rows[0]!.stale).toMatch(/newer checkpoint/);
      expect(board.rows[1]!.stale).toBeNull();

      const text = formatLeaderboard(board);
      expect(text).toMatch(/runs on val \(3 labeled images\)/);
      expect(text).toMatch(/no checkpoint \(queued\)/);
      expect(text).toMatch(/latency: onnxruntime session.run, batch 1, median of 20/);
    } finally {
      store.close();
    }
  });
});

describe('labels fingerprint', () => {
  it('changes with every edit of the split evaluation labels, and only with those', () => {
    const store = ProjectStore.create(`${tmp.dir}/fp`);
    try {
      const cls = store.classes.create('a');
      const other = store.classes.create('b');
      const [v1, v2, t1] = store.images.addMany([
        { path: 'v1.jpg', hash: '1', width: 100, height: 100, split: 'val', status: 'labeled' },
        { path: 'v2.jpg', hash: '2', width: 100, height: 100, split: 'val', status: 'labeled' },
        { path: 't1.jpg', hash: '3', width: 100, height: 100, split: 'train', status: 'labeled' },
      ]);
      const fp = () => store.labelsFingerprint('val').digest;
      const d0 = fp();
      expect(store.labelsFingerprint('val').images).toBe(2);
      store.annotations.edit(v1!, [{ op: 'create', classId: cls.id, x: 10, y: 10, w: 20, h: 20 }]);
      const d1 = fp();
      expect(d1).not.toBe(d0);
      const id = store.annotations.forImage(v1!)[0]!.id;
      store.annotations.edit(v1!, [{ op: 'update', id, x: 11 }]);
      const d2 = fp();
      expect(d2).not.toBe(d1);
      store.annotations.undo(v1!); // the same labels as at d1
      expect(fp()).toBe(d1);
      store.annotations.edit(v1!, [{ op: 'update', id, classId: other.id }]);
      expect(fp()).not.toBe(d1);
      store.annotations.undo(v1!);
      // Not evaluation labels: a pending pseudo-label, and edits on the train split.
      store.annotations.addMany([
        { imageId: v2!, classId: cls.id, x: 0, y: 0, w: 5, h: 5, source: 'teacher:t', score: 0.5, review: 'pending' },
      ]);
      store.annotations.edit(t1!, [{ op: 'create', classId: cls.id, x: 1, y: 1, w: 9, h: 9 }]);
      expect(fp()).toBe(d1);
      // Accepting that pseudo-label, or moving an image out of the split, changes them.
      store.annotations.setReview(
        store.annotations.forImage(v2!).map((a) => a.id),
        'accepted',
      );
      const d3 = fp();
      expect(d3).not.toBe(d1);
      store.images.setSplit([v2!], 'train');
      expect(fp()).not.toBe(d3);
      expect(store.labelsFingerprint('val').images).toBe(1);
      // The class order decides category indices.
      const before = fp();
      store.classes.reorder([other.id, cls.id]);
      expect(fp()).not.toBe(before);
    } finally {
      store.close();
    }
  });
});
