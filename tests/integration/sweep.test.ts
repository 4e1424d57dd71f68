/**
 * `starling sweep`: every preset trains from its file through the CLI; two processes each running one cell of the
 * same plan (as a cluster array's jobs would) merge their runs into the one project, and the table has both; the
 * sweep emitted as jobs runs those same cells. (Resuming a sweep killed midway: tests/integration/faults.test.ts.)
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaderboard } from '../../src-main/eval/leaderboard.js';
import { ProjectStore } from '../../src-main/store/project.js';
import { tempDir } from '../helpers.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/starling.js');
let tmp: ReturnType<typeof tempDir>;
let project: string;

async function starling(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 420_000, killSignal: 'SIGKILL' });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Starts the CLI in its own process group (killed whole on timeout); resolves with its exit code and stderr. */
function background(...args: string[]): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 180_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    }),
  );
}

const tiny = ['--set', 'data.imgsz=64', '--set', 'data.batch=4', '--set', 'device=cpu'];

beforeAll(async () => {
  tmp = tempDir();
  project = `${tmp.dir}/proj`;
  const r = await starling(
    'sample',
    project,
    '--seed',
    '4',
    '--train',
    '8',
    '--pool',
    '0',
    '--val',
    '3',
    '--test',
    '2',
  );
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup());

describe('starling sweep', () => {
  it('trains every preset from its file, evaluates each on val and test, and writes one table', async () => {
    const presets = fs
      .readdirSync('resources/configs')
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => path.resolve('resources/configs', f));
    const out = `${tmp.dir}/presets.md`;
    const csv = `${tmp.dir}/presets.csv`;
    const r = await starling(
      'sweep',
      project,
      ...presets,
      '--seeds',
      '1',
      '--epochs',
      '1',
      ...tiny,
      '--out',
      out,
      '--csv',
      csv,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^sweep: ${presets.length} of ${presets.length} run\\(s\\) done; budget 1 epochs per run`),
    );
    const table = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(table[0]).toBe(
      '| config | runs | val mAP50-95 | val mAP50 | test mAP50-95 | test mAP50 | params (M) | GFLOPs | latency (ms) | train (min) |',
    );
    expect(table).toHaveLength(2 + presets.length);
    for (const [i, f] of presets.entries()) {
      const cells = table[2 + i]!.split('|').map((c) => c.trim());
      expect(cells[1]).toBe(path.basename(f, '.yaml'));
      expect(cells[2]).toBe('1');
      // Every figure is there: both splits evaluated, size counted, latency measured.
      for (const c of cells.slice(3, 11)) expect(c, `${cells[1]}: ${table[2 + i]}`).toMatch(/^\d+\.\d+$/);
    }
    const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]!.split(',')).toHaveLength(2 + 2 * 8);
    expect(rows).toHaveLength(1 + presets.length);
    // The runs carry their cell and their settings: each preset's model as its file says.
    const s = ProjectStore.open(project);
    try {
      const runs = s.runs.list().filter((x) => (x.summary as { experiment?: unknown }).experiment);
      expect(runs).toHaveLength(presets.length);
      const centernet = runs.find((x) => x.name === 'seed003-centernet-starnet_s050 seed 0')!;
      expect([centernet.settings.model.head, centernet.settings.loss.weighting]).toEqual(['centernet', 'adaptive']);
      const v8 = runs.find((x) => x.name === 'seed001-yolov8n-starnet_s1 seed 0')!;
      expect([v8.settings.model.model, v8.settings.data.imgsz]).toEqual(['yolov8', 64]); // --set over the file
      const v5 = runs.find((x) => x.name === 'seed002-yolov5s-ghost seed 0')!;
      expect([v5.settings.model.model, v5.settings.model.head, v5.settings.optimizer.name]).toEqual([
        'yolov5-ghost',
        'yolov5',
        'SGD',
      ]);
    } finally {
      s.close();
    }
  }, 480_000);

  it('runs the cells of one plan in two processes at once, as a cluster array would, into one leaderboard', async () => {
    for (const [name, backbone] of [
      ['a', 'starnet_s050'],
      ['b', 'shufflenetv2_x0_5'],
    ])
      fs.writeFileSync(`${tmp.dir}/${name}.yaml`, `name: ${name}\nmodel: { backbone: ${backbone} }\n`);
    const plan = ['sweep', project, `${tmp.dir}/a.yaml`, `${tmp.dir}/b.yaml`, '--seeds', '2', '--epochs', '1', ...tiny];
    // The jobs, as the sweep emits them: one per cell, the same plan in each.
    const emitted = await starling(...plan, '--emit', 'commands');
    expect(emitted.code, emitted.stderr).toBe(0);
    const jobs = emitted.stdout.split('\n').filter((l) => l.startsWith('starling sweep'));
    expect(jobs).toHaveLength(4);
    expect(jobs.map((j) => /--cell (\d+)$/.exec(j)![1])).toEqual(['0', '1', '2', '3']);
    expect(emitted.stdout).toMatch(/# then, when every job has finished: starling sweep .* --table\n$/);
    const slurm = await starling(...plan, '--emit', 'slurm');
    expect(slurm.stdout).toMatch(/^#SBATCH --array=0-3$/m);
    expect(slurm.stdout).toMatch(/--cell "\$SLURM_ARRAY_TASK_ID"$/m);
    // A cluster's tasks train in copies of their own, merged back after; the scripts are valid bash and Python.
    expect(slurm.stdout).toMatch(/^rsync -a --exclude=\/runs\/ \S+\/ "\$COPY"\/$/m);
    expect(slurm.stdout).toMatch(/^# then: starling merge-runs \S+ \S+\.nodes\/task-\* && starling sweep .* --table$/m);
    fs.writeFileSync(`${tmp.dir}/sweep.sh`, slurm.stdout);
    expect(spawnSync('bash', ['-n', `${tmp.dir}/sweep.sh`]).status).toBe(0);
    const ray = await starling(...plan, '--emit', 'ray');
    expect(ray.stdout).toMatch(/"merge-runs", HOME/);
    const py = spawnSync('/usr/bin/python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], {
      input: ray.stdout,
    });
    expect(py.status, String(py.stderr)).toBe(0);
    // Two processes at once, two cells each, against the same project folder.
    const [first, second] = await Promise.all([
      (async () => [await background(...plan, '--cell', '0'), await background(...plan, '--cell', '2')])(),
      (async () => [await background(...plan, '--cell', '1'), await background(...plan, '--cell', '3')])(),
    ]);
    for (const r of [...first!, ...second!]) expect(r.code, r.stderr).toBe(0);
    // Merged: the table (training nothing) has both configs, both seeds each.
    const table = await starling(...plan, '--table');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^sweep: 4 of 4 run\(s\) done/);
    expect(table.stdout).toMatch(/^\| a \| 2 \| \d\.\d{3} ± \d\.\d{3} \|/m);
    expect(table.stdout).toMatch(/^\| b \| 2 \| \d\.\d{3} ± \d\.\d{3} \|/m);
    expect(table.stderr).not.toMatch(/training/);
  }, 300_000);

  it('merges the cells trained in copies of the project (one per node) back into one leaderboard', async () => {
    for (const [name, backbone] of [
      ['a', 'starnet_s050'],
      ['b', 'shufflenetv2_x0_5'],
    ])
      fs.writeFileSync(`${tmp.dir}/${name}.yaml`, `name: ${name}\nmodel: { backbone: ${backbone} }\n`);
    // The home project and one copy per node, as a cluster without a shared file system would have them.
    const home = `${tmp.dir}/home`;
    fs.cpSync(project, home, { recursive: true });
    // The home project has one run of its own (every copy then carries it); the other tests' runs go.
    const s0 = ProjectStore.open(home);
    for (const r of s0.runs.list()) s0.runs.delete(r.id);
    s0.close();
    fs.rmSync(`${home}/runs`, { recursive: true, force: true });
    const own = await starling('train', home, '--epochs', '1', '--name', 'own', ...tiny);
    expect(own.code, own.stderr).toBe(0);
    const s1 = ProjectStore.open(home);
    const kept = s1.runs.list()[0]!;
    s1.close();
    const nodes = [`${tmp.dir}/node0`, `${tmp.dir}/node1`];
    for (const n of nodes) fs.cpSync(home, n, { recursive: true });
    const plan = (p: string) => [
      'sweep',
      p,
      `${tmp.dir}/a.yaml`,
      `${tmp.dir}/b.yaml`,
      '--seeds',
      '1',
      '--epochs',
      '1',
      ...tiny,
    ];
    for (const [k, n] of nodes.entries()) {
      const r = await starling(...plan(n), '--cell', String(k));
      expect(r.code, r.stderr).toBe(0);
    }
    // On node 0, a run that starts from its sweep run and distils from the home's own run: both named by node 0's
    // ids, which the merge renumbers.
    const n0 = ProjectStore.open(nodes[0]!);
    const cell = n0.runs.list().at(-1)!;
    n0.close();
    const ft = await starling(
      'train',
      nodes[0]!,
      '--epochs',
      '1',
      '--name',
      'ft',
      '--weights',
      `run:${cell.id}:last`,
      '--set',
      `distill.teachers=[run:${kept.id}]`,
      ...tiny,
    );
    expect(ft.code, ft.stderr).toBe(0);
    // Node 1's copy comes back at another path (its runs recorded the old one).
    fs.renameSync(nodes[1]!, `${tmp.dir}/node1-back`);
    nodes[1] = `${tmp.dir}/node1-back`;
    // Node 1 first, so node 0's runs come over under other ids than they had there.
    const merged = await starling('merge-runs', home, ...[...nodes].reverse());
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/node0: 2 merged, 1 skipped/);
    expect(merged.stderr).not.toMatch(/did not come here/);
    expect(merged.stdout).toMatch(/node1-back: 1 merged, 1 skipped/);
    expect(merged.stdout).toMatch(new RegExp(`run ${kept.id} \\(${kept.name}\\) skipped: this project has it already`));
    const table = await starling(...plan(home), '--table');
    expect(table.stdout).toMatch(/^sweep: 2 of 2 run\(s\) done/);
    expect(table.stdout).toMatch(/^\| a \| 1 \| \d\.\d{3} \|/m);
    expect(table.stdout).toMatch(/^\| b \| 1 \| \d\.\d{3} \|/m);
    // Their folders came along, under this project's run ids, and their evaluations are current here.
    const s = ProjectStore.open(home);
    try {
      const runs = s.runs.list().filter((r) => r.id !== kept.id);
      expect(runs).toHaveLength(3);
      const here = runs.find((r) => r.name === cell.name)!;
      const tuned = runs.find((r) => r.name === 'ft')!;
      expect(here.id).not.toBe(cell.id); // renumbered: the copy's ids are not this project's
      expect(tuned.settings.weights.from).toBe(`run:${here.id}:last`);
      expect(tuned.settings.distill.teachers).toEqual([`run:${kept.id}`]);
      for (const r of runs.filter((r) => r !== tuned)) {
        expect(path.relative(path.join(home, 'runs', String(r.id)), r.artifacts.best!)).toBe('best.safetensors');
        expect(fs.existsSync(r.artifacts.best!)).toBe(true);
        expect(r.summary?.mergedFrom).toMatchObject({ run: kept.id + 1 }); // each node's first run after the home's
      }
      const board = leaderboard(s, 'val');
      const merged = board.rows.filter((r) => r.runId !== kept.id);
      expect(merged.filter((r) => r.runId !== tuned.id).map((r) => [r.stale, !!r.evaluation])).toEqual([
        [null, true],
        [null, true],
      ]);
      // Another class list is refused, naming both.
      const other = ProjectStore.create(`${tmp.dir}/other-classes`);
      other.classes.create('zebra');
      other.close();
    } finally {
      s.close();
    }
    const refused = await starling('merge-runs', home, `${tmp.dir}/other-classes`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/has the classes zebra; this project has circle, square/);
    // Merging again brings nothing twice.
    const again = await starling('merge-runs', home, ...nodes);
    expect(again.stdout).toMatch(/node0: 0 merged, 3 skipped/);
    expect(again.stdout).toMatch(/run \d+ \(ft\) skipped: this project has it already/);
    expect(again.stdout).toMatch(/run \d+ \(a seed 0\) skipped: this project has it already/);
  }, 300_000);

  it('refuses a plan it cannot run before training anything', async () => {
    fs.writeFileSync(`${tmp.dir}/typo.yaml`, 'model: { backbone: starnet_s9 }\n');
    const bad = await starling('sweep', project, `${tmp.dir}/a.yaml`, `${tmp.dir}/typo.yaml`, '--epochs', '1');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/typo\.yaml: model\.backbone: unknown backbone "starnet_s9"/);
    const noBudget = await starling('sweep', project, `${tmp.dir}/a.yaml`);
    expect(noBudget.stderr).toMatch(/a sweep needs a budget: --time MINUTES or --epochs N/);
    fs.mkdirSync(`${tmp.dir}/other`, { recursive: true });
    fs.copyFileSync(`${tmp.dir}/a.yaml`, `${tmp.dir}/other/a.yaml`);
    const twice = await starling('sweep', project, `${tmp.dir}/a.yaml`, `${tmp.dir}/other/a.yaml`, '--epochs', '1');
    expect(twice.stderr).toMatch(/two experiment files are both named a/);
    const cell = await starling('sweep', project, `${tmp.dir}/a.yaml`, '--epochs', '1', '--seeds', '1', '--cell', '5');
    expect(cell.stderr).toMatch(/--cell 5: the plan has cells 0-0/);
  }, 120_000);
});
