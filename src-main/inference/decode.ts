/**
 * Decoding a detector's raw ONNX outputs into boxes in network-input pixels, for any registered output layout
 * (inference/layouts/): detect the layout from the outputs' names and shapes (and the model's metadata where
 * shapes are ambiguous), check that a chosen layout fits, and decode one batch item.
 */
import './layouts/index.js';
import type { Detection } from './boxes.js';
import { layoutEntries, layoutEntry, type DecodeOptions, type Outputs } from './layouts/layout.js';

export type { DecodeOptions, Out, Outputs } from './layouts/layout.js';
export type { Detection } from './boxes.js';
export type Layout = string;

/** Registered layouts with the model families that produce them (the UI's family list, the CLI's choices). */
export const layouts = (): { name: string; families: string }[] =>
  layoutEntries().map((e) => ({ name: e.name, families: e.families }));

export const layoutNames = (): string[] => layoutEntries().map((e) => e.name);

/** onnxruntime's result map as decoder outputs (float tensors: dims and data). */
export function asOutputs(res: Record<string, { dims: readonly number[]; data: unknown }>): Outputs {
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, { dims: v.dims, data: v.data as Float32Array }]));
}

const describe = (outputs: Outputs) =>
  Object.entries(outputs)
    .map(([n, t]) => `${n} [${t.dims.join(', ')}]`)
    .join(', ');

/** Picks the layout whose rule fits best; throws naming what was found and what every layout expects. */
export function detectLayout(outputs: Outputs, metadata: Record<string, string> = {}): Layout {
  let best: { name: string; rank: number } | null = null;
  for (const e of layoutEntries()) {
    const rank = e.match(outputs, metadata);
    if (rank !== null && (!best || rank < best.rank)) best = { name: e.name, rank };
  }
  if (best) return best.name;
  throw new Error(
    `unrecognized detector outputs: ${describe(outputs)}; expected one of ` +
      layoutEntries()
        .map((e) => `${e.expects} (${e.families})`)
        .join(', '),
  );
}

/** Checks that `layout` can read these outputs (a manual family override must still fit the shapes). */
export function checkLayout(layout: Layout, outputs: Outputs): void {
  const why = layoutEntry(layout).misfit(outputs);
  if (why) throw new Error(`outputs ${describe(outputs)} do not fit ${layout}: expected ${why}`);
}

/** The number of classes the outputs imply, or null when they do not say. */
export const classCountOf = (layout: Layout, outputs: Outputs): number | null =>
  layoutEntry(layout).classCount(outputs);

export function decode(layout: Layout, outputs: Outputs, batchIndex: number, o: DecodeOptions): Detection[] {
  // Only this batch item's slice: decoding a batch calls this once per item.
  for (const [name, t] of Object.entries(outputs)) {
    const per = t.data.length / (t.dims[0] || 1);
    const end = (batchIndex + 1) * per;
    for (let i = batchIndex * per; i < end; i++)
      if (!Number.isFinite(t.data[i]!)) throw new Error(`output ${name} contains NaN or infinite values`);
  }
  checkLayout(layout, outputs);
  return layoutEntry(layout).decode(outputs, batchIndex, o);
}
