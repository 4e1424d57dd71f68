/** What the Train view's charts call things and how they write numbers and tell series apart (no rendering). */

/** What a metric key is called on the charts and their legends. */
export function metricName(k: string): string {
  const fixed: Record<string, string> = {
    mAP50: 'mAP50',
    'mAP50-95': 'mAP50-95',
    lr: 'learning rate',
    imagesPerSecond: 'images/s',
  };
  if (fixed[k]) return fixed[k];
  if (k.startsWith('loss.kd_')) return `distillation ${k.slice(8)} loss`;
  if (k.startsWith('loss.')) return `${k.slice(5)} loss`;
  return k;
}

/** A tick or legend value with enough digits for the axis' span: 0.0012 and 0.0024, not 0 and 0. */
export function tickLabel(v: number, span: number): string {
  if (v === 0) return '0';
  const digits = Math.max(0, Math.min(6, 1 - Math.floor(Math.log10(span || Math.abs(v)))));
  return Math.abs(v) < 1e-4 ? v.toExponential(1) : v.toFixed(digits);
}

/**
 * The labels of one axis' ticks, all with the same digits: the fewest that write every tick exactly (to a
 * thousandth of the tick step), so 0.2, 0.4 and 0.008, 0.009, 0.010, never "0, 0, 0".
 */
export function axisLabels(ticks: readonly number[]): string[] {
  if (ticks.length < 2) return ticks.map((v) => tickLabel(v, Math.abs(v)));
  const step = Math.min(...ticks.slice(1).map((v, i) => Math.abs(v - ticks[i]!))) || Math.abs(ticks[0]!) || 1;
  if (Math.max(...ticks.map(Math.abs)) < 1e-4) return ticks.map((v) => (v === 0 ? '0' : v.toExponential(1)));
  let digits = 0;
  while (digits < 6 && ticks.some((v) => Math.abs(v - Number(v.toFixed(digits))) > step * 1e-3)) digits++;
  return ticks.map((v) => v.toFixed(digits));
}

const COLOURS = ['#4f8cff', '#3ccf8e', '#f5b74f', '#ff5d5d', '#c084fc', '#22d3ee'];
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];

/** A series' line: comparing runs, one colour per run and one dash per metric; else one colour per metric. */
export function seriesStyle(comparing: boolean, run: number, metric: number): { stroke: string; dash: number[] } {
  return {
    stroke: COLOURS[(comparing ? run : metric) % COLOURS.length]!,
    dash: comparing ? DASHES[metric % DASHES.length]! : [],
  };
}
