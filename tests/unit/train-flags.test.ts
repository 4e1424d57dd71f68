import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addTrainFlags, settingsFromFlags, TRAIN_FLAGS } from '../../src-main/cli/train-flags.js';
import { DEFAULT_RUN_SETTINGS, resolveRunSettings, runSettingsSchema } from '../../src-main/settings/run-settings.js';

const parse = (args: string[]) => {
  const cmd = addTrainFlags(new Command('train').exitOverride());
  cmd.parse(args, { from: 'user' });
  return settingsFromFlags(cmd.opts());
};

describe('train flags', () => {
  it('set only what is given, into the settings sections; the schema fills the rest', () => {
    expect(parse([])).toEqual({});
    const given = parse(['--imgsz', '256', '--cos-lr', '--time', '2.5', '--hsv-h', '0', '--include-pending']);
    expect(given).toEqual({
      data: { imgsz: 256, includePending: true },
      optimizer: { schedule: 'cosine' },
      budget: { minutes: 2.5 },
      augment: { hsvH: 0 },
    });
    const r = resolveRunSettings(given);
    expect(r.data.batch).toBe(DEFAULT_RUN_SETTINGS.data.batch);
    expect(r.augment.hsvH).toBe(0);
  });

  it('show the schema defaults in the help, and every flag names a setting the schema has', () => {
    const help = addTrainFlags(new Command('train')).helpInformation();
    expect(help).toMatch(/--imgsz <n>\s+input size \(multiple of 32\) \(default: 320\)/);
    expect(help).toMatch(/--backbone <name>\s+backbone \(see starling zoo\) \(default: starnet_s050\)/);
    // Each flag's path is a key of its schema section (optional keys included).
    const shape = runSettingsSchema.shape as unknown as Record<string, { unwrap?: () => { shape?: object } }>;
    for (const f of TRAIN_FLAGS) {
      const [section, key] = f.path.split('.');
      if (key === undefined) expect(Object.keys(shape), f.flags).toContain(section);
      else expect(Object.keys(shape[section!]!.unwrap!().shape!), f.flags).toContain(key);
    }
  });

  it('refuses a bad number by flag', () => {
    expect(() => parse(['--epochs', '2.5'])).toThrow(/--epochs must be an integer/);
  });

  it('collect repeated teachers and adaptive targets, and refuse a target that is not TERM=NUMBER', () => {
    const given = parse([
      '--distill',
      'a',
      '--distill',
      'run:2',
      '--loss-weights',
      'adaptive',
      '--loss-target',
      'box=1.5',
      '--loss-target',
      'kd_cls=0.25',
    ]);
    expect(given).toEqual({
      distill: { teachers: ['a', 'run:2'] },
      loss: { weighting: 'adaptive', targets: { box: 1.5, kd_cls: 0.25 } },
    });
    expect(resolveRunSettings(given).loss.targets).toEqual({ box: 1.5, kd_cls: 0.25 });
    expect(() => parse(['--loss-target', 'box'])).toThrow(/--loss-target takes TERM=NUMBER/);
    expect(() => parse(['--loss-target', 'box=high'])).toThrow(/not "box=high"/);
  });
});
