/**
 * An output layout: how one family of detectors lays out its raw ONNX outputs, and how to read boxes from them.
 * Each layout is one file in this folder that registers itself (layouts/index.ts imports them all); the
 * decoder front (inference/decode.ts), teacher registration and the UI's family list read the registry, so a
 * new teacher format is its file plus one import line.
 */
import type { Detection } from '../boxes.js';

export type Out = { dims: readonly number[]; data: Float32Array };
export type Outputs = Record<string, Out>;

export interface DecodeOptions {
  conf: number;
  iou: number;
  maxDet: number;
  /** Network input size in pixels (normalized layouts scale by it; CenterNet derives its stride). */
  inputSize?: number;
}

export interface LayoutEntry {
  name: string;
  /** The model families that produce it, as the UI and CLI name them. */
  families: string;
  /** The shape this layout expects, in words (for refusals). */
  expects: string;
  /**
   * Whether these outputs look like this layout, as a rank (lower wins when several match: a shape that two
   * layouts share goes to the one whose rule is more specific), or null.
   */
  match(outputs: Outputs, metadata: Record<string, string>): number | null;
  /** Why these outputs cannot be read as this layout (a manual override must still fit), or null. */
  misfit(outputs: Outputs): string | null;
  /** Classes the outputs imply, or null when they do not say (NMS rows carry a class id only). */
  classCount(outputs: Outputs): number | null;
  /** Boxes of batch item `b` in network-input pixels. */
  decode(outputs: Outputs, b: number, o: DecodeOptions): Detection[];
}

const registry = new Map<string, LayoutEntry>();

export function registerLayout(entry: LayoutEntry): void {
  if (registry.has(entry.name)) throw new Error(`output layout ${entry.name} is registered twice`);
  registry.set(entry.name, entry);
}

export function layoutEntry(name: string): LayoutEntry {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown output layout "${name}"; known: ${[...registry.keys()].join(', ')}`);
  return e;
}

export const layoutEntries = (): LayoutEntry[] => [...registry.values()];

/** The only output of a single-output model, or null. */
export function single(outputs: Outputs): Out | null {
  const names = Object.keys(outputs);
  return names.length === 1 ? outputs[names[0]!]! : null;
}

/** The rank-3 dims of a single-output model, or null. */
export function rank3(outputs: Outputs): [number, number, number] | null {
  const t = single(outputs);
  return t && t.dims.length === 3 ? (t.dims as [number, number, number]) : null;
}
