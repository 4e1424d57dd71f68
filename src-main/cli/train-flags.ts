/**
 * `starling train`'s flags, one line each, mapped onto the run settings (settings/run-settings.ts): the default
 * shown in the help is the schema's, and a flag that is not given is not set, so the schema fills it (and a
 * later experiment file is not overridden by defaults). Adding a setting to the CLI is one line here.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEVICES } from '../runtime/devices.js';
import { DEFAULT_RUN_SETTINGS, type RunSettingsInput } from '../settings/run-settings.js';

type Kind = 'int' | 'number' | 'string' | 'flag' | 'list' | 'pairs';

interface TrainFlag {
  flags: string;
  /** Dotted path in the run settings. */
  path: string;
  help: string;
  kind: Kind;
  choices?: readonly string[];
  /** For a flag (no value): the value it sets. */
  value?: unknown;
}

export const TRAIN_FLAGS: readonly TrainFlag[] = [
  { flags: '--model <name>', path: 'model.model', kind: 'string', help: 'architecture' },
  { flags: '--scale <scale>', path: 'model.scale', kind: 'string', help: 'scale', choices: ['n', 's', 'm', 'l', 'x'] },
  { flags: '--backbone <name>', path: 'model.backbone', kind: 'string', help: 'backbone (see starling zoo)' },
  { flags: '--head <head>', path: 'model.head', kind: 'string', help: 'detection head (yolo, yolov5, centernet)' },
  {
    flags: '--backbone-width <x>',
    path: 'model.backboneWidth',
    kind: 'number',
    help: "the backbone's channel multiplier, if not the scale's (an ImageNet StarNet is at 1; --weights sets it)",
  },
  {
    flags: '--weights <from>',
    path: 'weights.from',
    kind: 'string',
    help:
      'start from these weights: a .safetensors, .pt/.pth/.pth.tar (a state dict, an Ultralytics checkpoint, an ImageNet ' +
      'backbone) or run:N / run:N:last (a run of this project); the model is taken from the file unless given',
  },
  {
    flags: '--force-weights',
    path: 'weights.force',
    kind: 'flag',
    value: true,
    help: 'start even when almost nothing in --weights matches the model',
  },
  {
    flags: '--freeze <n>',
    path: 'weights.freeze',
    kind: 'int',
    help: 'freeze the first n layers (model.0 ... model.n-1)',
  },
  { flags: '--imgsz <n>', path: 'data.imgsz', kind: 'int', help: 'input size (multiple of 32)' },
  { flags: '--batch <n>', path: 'data.batch', kind: 'int', help: 'batch size' },
  {
    flags: '--cache <mode>',
    path: 'data.cache',
    kind: 'string',
    help: 'decoded images in RAM: auto (when they fit), ram, off',
    choices: ['auto', 'ram', 'off'],
  },
  {
    flags: '--include-pending',
    path: 'data.includePending',
    kind: 'flag',
    value: true,
    help: 'also train on pending pseudo-labels (at --pending-weight)',
  },
  { flags: '--pending-weight <x>', path: 'data.pendingWeight', kind: 'number', help: 'loss weight of pending boxes' },
  { flags: '--mosaic <p>', path: 'augment.mosaic', kind: 'number', help: 'mosaic probability' },
  { flags: '--close-mosaic <n>', path: 'augment.closeMosaic', kind: 'int', help: 'mosaic off for the last n epochs' },
  { flags: '--hsv-h <x>', path: 'augment.hsvH', kind: 'number', help: 'hue jitter (fraction of a turn)' },
  { flags: '--hsv-s <x>', path: 'augment.hsvS', kind: 'number', help: 'saturation jitter' },
  { flags: '--hsv-v <x>', path: 'augment.hsvV', kind: 'number', help: 'brightness jitter' },
  { flags: '--fliplr <p>', path: 'augment.fliplr', kind: 'number', help: 'horizontal flip probability' },
  { flags: '--aug-scale <x>', path: 'augment.scale', kind: 'number', help: 'random scale range 1 +/- x' },
  { flags: '--translate <x>', path: 'augment.translate', kind: 'number', help: 'random translation (fraction)' },
  {
    flags: '--optimizer <name>',
    path: 'optimizer.name',
    kind: 'string',
    help: 'optimizer (auto: Ultralytics rule)',
    choices: ['auto', 'SGD', 'AdamW'],
  },
  { flags: '--lr0 <x>', path: 'optimizer.lr0', kind: 'number', help: 'initial learning rate (auto picks its own)' },
  { flags: '--lrf <x>', path: 'optimizer.lrf', kind: 'number', help: 'final learning rate, fraction of lr0' },
  { flags: '--momentum <x>', path: 'optimizer.momentum', kind: 'number', help: 'SGD momentum / Adam beta1' },
  { flags: '--weight-decay <x>', path: 'optimizer.weightDecay', kind: 'number', help: 'weight decay' },
  {
    flags: '--cos-lr',
    path: 'optimizer.schedule',
    kind: 'flag',
    value: 'cosine',
    help: 'cosine LR decay after warmup (default: linear, as Ultralytics)',
  },
  { flags: '--warmup-epochs <x>', path: 'optimizer.warmupEpochs', kind: 'number', help: 'warmup length in epochs' },
  {
    flags: '--warmup-min-iters <n>',
    path: 'optimizer.warmupMinIters',
    kind: 'int',
    help: 'warmup lasts at least this many steps (Ultralytics: 100)',
  },
  { flags: '--clip-norm <x>', path: 'optimizer.clipNorm', kind: 'number', help: 'gradient norm clip' },
  { flags: '--ema-decay <x>', path: 'optimizer.emaDecay', kind: 'number', help: 'EMA decay' },
  { flags: '--epochs <n>', path: 'budget.epochs', kind: 'int', help: 'epochs' },
  {
    flags: '--time <minutes>',
    path: 'budget.minutes',
    kind: 'number',
    help: 'train for this long: the epoch count is refitted after each epoch, and the run stops when it is spent',
  },
  { flags: '--patience <n>', path: 'budget.patience', kind: 'int', help: 'stop after n epochs without improvement' },
  { flags: '--val-every <n>', path: 'budget.valEvery', kind: 'int', help: 'validate every n epochs (and the last)' },
  {
    flags: '--distill <teacher>',
    path: 'distill.teachers',
    kind: 'list',
    help:
      'distil from a teacher (repeat for several): a registered teacher NAME (NAME:map.json gives a class map) or ' +
      'run:N, a run of this project',
  },
  {
    flags: '--distill-data <which>',
    path: 'distill.data',
    kind: 'string',
    help: 'labeled (labels + teachers), all (+ the not yet labeled train images, teachers only) or unlabeled',
    choices: ['labeled', 'all', 'unlabeled'],
  },
  { flags: '--distill-weight <x>', path: 'distill.weight', kind: 'number', help: 'gain of the distillation terms' },
  {
    flags: '--distill-conf <x>',
    path: 'distill.conf',
    kind: 'number',
    help: 'box-level distillation keeps teacher boxes scoring at least this',
  },
  {
    flags: '--cache-teachers',
    path: 'distill.cache',
    kind: 'flag',
    value: true,
    help: "run teachers once on the un-augmented images and keep their boxes (keyed by the teacher file's sha256)",
  },
  {
    flags: '--loss-weights <how>',
    path: 'loss.weighting',
    kind: 'string',
    help: "fixed gains, or adaptive (centerX's: each term held at a fixed value)",
    choices: ['fixed', 'adaptive'],
  },
  {
    flags: '--loss-target <t=x>',
    path: 'loss.targets',
    kind: 'pairs',
    help: 'the value an adaptive term is held at (repeat; e.g. box=1.5 kd_cls=0.5; the head gives the others)',
  },
  {
    flags: '--loss-gain <t=x>',
    path: 'loss.gains',
    kind: 'pairs',
    help: "a fixed gain over the head's (repeat; yolo: box=7.5 cls=0.5 dfl=1.5, centernet: hm=1 wh=0.1 reg=1)",
  },
  { flags: '--seed <n>', path: 'seed', kind: 'int', help: 'random seed' },
  { flags: '--device <device>', path: 'device', kind: 'string', help: 'execution provider', choices: DEVICES },
];

const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

function parser(kind: Kind, flags: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${flags.split(' ')[0]} must be ${kind === 'int' ? 'an integer' : 'a number'}`);
    return n;
  };
}

function pairParser(flags: string) {
  return (v: string, prev: Record<string, number> | undefined): Record<string, number> => {
    const m = /^([A-Za-z_]\w*)=(.+)$/.exec(v);
    const n = Number(m?.[2]);
    if (!m || !Number.isFinite(n))
      throw new InvalidArgumentError(`${flags.split(' ')[0]} takes TERM=NUMBER (e.g. box=1.5), not "${v}"`);
    return { ...prev, [m[1]!]: n };
  };
}

/** The commander attribute a flag's value lands in (`--hsv-h` -> hsvH). */
const attribute = (flags: string) =>
  flags
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function addTrainFlags(cmd: Command): Command {
  for (const f of TRAIN_FLAGS) {
    const def =
      f.kind === 'flag' || f.kind === 'list' || f.kind === 'pairs' ? undefined : get(DEFAULT_RUN_SETTINGS, f.path);
    const opt = new Option(f.flags, def === undefined ? f.help : `${f.help} (default: ${String(def)})`);
    if (f.choices) opt.choices([...f.choices]);
    if (f.kind === 'int' || f.kind === 'number') opt.argParser(parser(f.kind, f.flags));
    if (f.kind === 'list') opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    if (f.kind === 'pairs') opt.argParser(pairParser(f.flags));
    cmd.addOption(opt);
  }
  return cmd;
}

/** The settings the given flags set (nothing for a flag not given). */
export function settingsFromFlags(opts: Record<string, unknown>): RunSettingsInput {
  const out: Record<string, unknown> = {};
  for (const f of TRAIN_FLAGS) {
    const v = opts[attribute(f.flags)];
    if (v === undefined || v === false) continue;
    const keys = f.path.split('.');
    let at = out;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[keys.at(-1)!] = f.kind === 'flag' ? f.value : v;
  }
  return out as RunSettingsInput;
}
