/**
 * Learning-rate schedules as Ultralytics runs them: a per-epoch factor (cosine, linear or step) on lr0, and
 * per-iteration warmup where biases start high (warmup_bias_lr) and everything else starts at 0, while
 * momentum ramps from warmup_momentum.
 */
export type ScheduleKind = 'cosine' | 'linear' | 'step';

export interface ScheduleOptions {
  kind: ScheduleKind;
  lr0: number;
  /** Final LR as a fraction of lr0 (Ultralytics lrf). */
  lrf: number;
  epochs: number;
  /** step schedule: multiply by gamma every stepEpochs. */
  stepEpochs?: number;
  gamma?: number;
  warmupIters: number;
  warmupBiasLr: number;
  warmupMomentum: number;
  momentum: number;
}

/** The epoch factor lf(epoch) in [lrf, 1]. */
export function epochFactor(o: ScheduleOptions, epoch: number): number {
  switch (o.kind) {
    case 'cosine':
      return ((1 - Math.cos((epoch * Math.PI) / o.epochs)) / 2) * (o.lrf - 1) + 1;
    case 'linear':
      return Math.max(0, 1 - epoch / o.epochs) * (1 - o.lrf) + o.lrf;
    case 'step':
      return Math.pow(o.gamma ?? 0.1, Math.floor(epoch / (o.stepEpochs ?? Math.max(1, Math.floor(o.epochs / 3)))));
  }
}

const interp = (x: number, x0: number, x1: number, y0: number, y1: number) => y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);

/** LR per group name and momentum at global iteration `iter` within `epoch`. */
export function scheduleAt(
  o: ScheduleOptions,
  iter: number,
  epoch: number,
  groups: readonly string[],
): { lr: Record<string, number>; momentum: number } {
  const target = o.lr0 * epochFactor(o, epoch);
  if (iter >= o.warmupIters || o.warmupIters <= 0) {
    return { lr: Object.fromEntries(groups.map((g) => [g, target])), momentum: o.momentum };
  }
  const lr = Object.fromEntries(
    groups.map((g) => [g, interp(iter, 0, o.warmupIters, g === 'bias' ? o.warmupBiasLr : 0, target)]),
  );
  return { lr, momentum: interp(iter, 0, o.warmupIters, o.warmupMomentum, o.momentum) };
}
