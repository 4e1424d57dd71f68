/**
 * Inference latency as every view reports it (runs leaderboard, export, `starling val`): warm-up runs, then the
 * median of timed `session.run` calls on the same feeds. One cold run is dominated by first-call allocation.
 */
import type ort from 'onnxruntime-node';

export const LATENCY_RUNS = 20;

/** The middle value (the upper one of an even count); 0 for none. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function measureLatency(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  runs = LATENCY_RUNS,
  warmup = 3,
): Promise<{ medianMs: number; outputs: ort.InferenceSession.OnnxValueMapType }> {
  let outputs = await session.run(feeds);
  for (let i = 1; i < warmup; i++) outputs = await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    outputs = await session.run(feeds);
    times.push(performance.now() - t);
  }
  return { medianMs: median(times), outputs };
}
