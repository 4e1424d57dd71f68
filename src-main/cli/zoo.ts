import type { ModelCard } from '../models/card.js';

/** A model-card table for the terminal. */
export function formatCards(cards: ModelCard[]): string {
  const rows = cards.map((c) => [
    c.kind,
    c.name,
    (c.parameters / 1e6).toFixed(3) + 'M',
    (c.trainable / 1e6).toFixed(3) + 'M',
    c.gflops.toFixed(1),
    c.strides.join('/'),
    c.channels.join('/'),
  ]);
  const head = ['kind', 'name', 'params', 'trainable', `GFLOPs@${cards[0]?.imgsz ?? 640}`, 'strides', 'channels'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((v, i) => (i >= 2 && i <= 4 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
