/** Display formats shared by the views. */

/** A remaining time as a clock: 0:42, 12:05, 1:03:20. */
export function formatEta(seconds: number): string {
  const t = Math.max(0, Math.round(seconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(t % 60).padStart(2, '0')}`;
}
