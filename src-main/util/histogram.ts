/** Counts of values in bins between consecutive edges (`lo` inclusive, `hi` exclusive). */

export interface Bin {
  lo: number;
  /** null: open-ended (the last edge was Infinity, which JSON cannot carry; histograms are stored and sent). */
  hi: number | null;
  count: number;
}

export function histogram(values: Iterable<number>, edges: readonly number[]): Bin[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    const i = edges.findIndex((lo, k) => k < edges.length - 1 && v >= lo && v < edges[k + 1]!);
    if (i >= 0) counts[i]!++;
  }
  return counts.map((count, i) => {
    const hi = edges[i + 1]!;
    return { lo: edges[i]!, hi: hi === Infinity ? null : hi, count };
  });
}
