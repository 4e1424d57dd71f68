import { performance } from 'node:perf_hooks';

/** The median wall time of `iters` calls of `run`, in ms, after two untimed warm-up calls. */
export async function medianMs(run: () => Promise<unknown> | unknown, iters: number): Promise<number> {
  for (let i = 0; i < 2; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}
