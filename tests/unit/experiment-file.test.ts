import { describe, expect, it } from 'vitest';
import {
  formatExperiment,
  mergeSettings,
  parseAssignment,
  parseExperiment,
} from '../../src-main/settings/experiment-file.js';
import { DEFAULT_RUN_SETTINGS, resolveRunSettings } from '../../src-main/settings/run-settings.js';
import { settingsFromFlags, addTrainFlags } from '../../src-main/cli/train-flags.js';
import { Command } from 'commander';
import { contract } from '../../src-main/api/contract.js';
import { describeIssues } from '../../src-main/util/issues.js';

const FILE = `
name: shuffle-small
model:
  backbone: shufflenetv2_x1_0
  scale: s
data:
  imgsz: 256
augment:
  mosaic: 0
  hsvH: 0
optimizer:
  name: AdamW
  lr0: 0.002
  schedule: cosine
distill:
  teachers: [big, "run:2"]
loss:
  weighting: adaptive
  targets: { box: 1.5 }
budget:
  minutes: 8
seed: 3
`;

describe('experiment files', () => {
  it('read as written, with only what the file sets; the schema fills the rest', () => {
    const exp = parseExperiment(FILE, 'exp.yaml');
    expect(exp.model).toEqual({ backbone: 'shufflenetv2_x1_0', scale: 's' });
    expect(exp.optimizer).toEqual({ name: 'AdamW', lr0: 0.002, schedule: 'cosine' });
    const { name: _n, ...settings } = exp;
    const r = resolveRunSettings(settings);
    expect(r.augment.mosaic).toBe(0);
    expect(r.augment.hsvS).toBe(DEFAULT_RUN_SETTINGS.augment.hsvS);
    expect(r.distill.teachers).toEqual(['big', 'run:2']);
    expect(r.loss.targets).toEqual({ box: 1.5 });
  });

  it('refuse unknown keys and bad values, naming the file and each key', () => {
    expect(() => parseExperiment('optimizer:\n  lr: 0.1\n', 'a.yaml')).toThrow(/^a\.yaml: optimizer\.lr: unknown key$/);
    expect(() => parseExperiment('modle: {}\n', 'a.yaml')).toThrow(/^a\.yaml: modle: unknown key$/);
    expect(() => parseExperiment('data:\n  imgsz: 100\n  batch: 0\n', 'b.yaml')).toThrow(
      /^b\.yaml: data\.imgsz: .*multiple of 32; data\.batch: /,
    );
    expect(() => parseExperiment('augment:\n  mosaic: 2\n', 'c.yaml')).toThrow(/augment\.mosaic: /);
    expect(() => parseExperiment('optimizer:\n  name: Lion\n', 'c.yaml')).toThrow(/optimizer\.name: /);
    expect(() => parseExperiment('- a\n- b\n', 'd.yaml')).toThrow(/^d\.yaml: an experiment file is a mapping/);
    expect(() => parseExperiment('a: [1\n', 'e.yaml')).toThrow(/^e\.yaml: not valid YAML/);
    expect(() => parseExperiment('resume: 3\n', 'f.yaml')).toThrow(/resume: unknown key/);
    expect(parseExperiment('', 'empty.yaml')).toEqual({});
  });

  it("name loss gains by the head's terms, refused at the API before a job starts", () => {
    const check = (req: unknown) => {
      const r = contract['train.start'].input.safeParse(req);
      return r.success ? 'ok' : describeIssues(r.error);
    };
    expect(check(parseExperiment('loss: { gains: { box: 5, dfl: 0 } }', 'a.yaml'))).toBe('ok');
    expect(check(parseExperiment('loss: { gains: { hm: 2 } }', 'a.yaml'))).toBe(
      'loss.gains.hm: the yolo head has no loss term hm (its terms: box, cls, dfl)',
    );
    expect(check({ model: { head: 'centernet' }, loss: { gains: { hm: 2, wh: 0.2 } } })).toBe('ok');
    expect(check({ model: { head: 'centernet' }, loss: { gains: { box: 2 } } })).toMatch(
      /^loss\.gains\.box: the centernet head has no loss term box \(its terms: hm, wh, reg\)$/,
    );
    expect(check({ loss: { gains: { box: -1 } } })).toMatch(/^loss\.gains\.box: /);
    expect(check({ loss: { weighting: 'adaptive', gains: { box: 2 } } })).toMatch(
      /^loss\.gains: fixed gains do nothing under adaptive weights/,
    );
    // A model taken from a weights file is known only in the job, which checks there.
    expect(check({ weights: { from: 'run:1' }, loss: { gains: { hm: 2 } } })).toBe('ok');
  });

  it('are overridden by the options, key by key, then by --set', () => {
    const cmd = addTrainFlags(new Command('train').exitOverride());
    cmd.parse(['--lr0', '0.01', '--imgsz', '320', '--distill', 'other'], { from: 'user' });
    const merged = mergeSettings(parseExperiment(FILE, 'exp.yaml'), settingsFromFlags(cmd.opts()));
    expect(merged.optimizer).toEqual({ name: 'AdamW', lr0: 0.01, schedule: 'cosine' }); // the rest of the section stays
    expect(merged.data).toEqual({ imgsz: 320 });
    expect(merged.distill?.teachers).toEqual(['other']); // a list is replaced, not appended to
    const set = mergeSettings(merged, parseAssignment('augment.fliplr=0.25'));
    expect(set.augment).toEqual({ mosaic: 0, hsvH: 0, fliplr: 0.25 });
    expect(parseAssignment('distill.teachers=[a, "run:2"]')).toEqual({ distill: { teachers: ['a', 'run:2'] } });
    expect(parseAssignment('data.includePending=true')).toEqual({ data: { includePending: true } });
    expect(parseAssignment('weights.from=run:3')).toEqual({ weights: { from: 'run:3' } });
    expect(() => parseAssignment('no-equals')).toThrow(/KEY=VALUE/);
  });

  it('print a run back as a file that gives the same settings (round trip)', () => {
    const { name: _n, ...given } = parseExperiment(FILE, 'exp.yaml');
    const settings = resolveRunSettings({ ...given, model: { ...given.model, nc: 6 } });
    const text = formatExperiment(settings, { name: 'shuffle-small', header: ['run 4 of proj'] });
    expect(text).toMatch(/^# run 4 of proj\n/);
    expect(text).not.toMatch(/\bnc:/); // the project decides the class count
    // Sections in the order of a file; every value present.
    expect([...text.matchAll(/^(\w+):/gm)].map((m) => m[1])).toEqual([
      'name',
      'model',
      'weights',
      'data',
      'augment',
      'optimizer',
      'loss',
      'distill',
      'budget',
      'seed',
      'device',
    ]);
    const back = parseExperiment(text, 'printed.yaml');
    expect(back.name).toBe('shuffle-small');
    const { name: _m, ...again } = back;
    expect(resolveRunSettings({ ...again, model: { ...again.model, nc: 6 } })).toEqual(settings);
  });
});

describe('presets.list', () => {
  it('lists each file with its leading comment, and one that does not parse with the key named', async () => {
    const { listPresets, PRESETS_DIR } = await import('../../src-main/settings/presets.js');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presets-'));
    try {
      fs.writeFileSync(path.join(dir, 'b.yaml'), '# Two lines\n# of comment.\nname: b\nmodel: { scale: n }\n');
      fs.writeFileSync(path.join(dir, 'a.yaml'), 'name: a\noptimizer: { lr: 0.1 }\n');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a preset');
      const list = listPresets(dir);
      expect(list.map((p) => p.name)).toEqual(['a', 'b']);
      expect(list[0]!.error).toMatch(/a\.yaml: optimizer\.lr: unknown key/);
      expect(list[1]!.description).toBe('Two lines of comment.');
      expect(list[1]!.error).toBeUndefined();
      expect(listPresets(path.join(dir, 'missing'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The shipped ones all parse.
    const shipped = listPresets(PRESETS_DIR);
    expect(shipped.length).toBeGreaterThanOrEqual(20);
    expect(shipped.filter((p) => p.error)).toEqual([]);
  });
});
