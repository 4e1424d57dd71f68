/**
 * The head contract and registry, shaped like the backbones': a head is one file under heads/ that registers
 * itself with what it reads from the neck, the export styles it offers (each naming the output layout a decoder
 * reads it with), and a builder. The detector, export, evaluation and the UI ask the head; only the training
 * objective of a head lives elsewhere (train/objectives/, registered under the head's name), because losses are
 * the trainer's.
 */
import type { Tensor } from '../engine/ir.js';
import { Module } from '../engine/nn.js';

export interface ExportStyle {
  name: string;
  description: string;
  /** The output layout (inference/layouts/) its outputs are decoded with; null for plain feature maps. */
  layout: string | null;
}

/** In-graph post-processing settings (the `nms` style). */
export interface NmsSettings {
  conf: number;
  iou: number;
  maxDet: number;
}

/**
 * What a head reads: P3-P5 after the PAN neck (`pan`), one stride-4 map (the top-down path extended to P2: `p2`),
 * or the backbone section's four maps (`backbone`).
 */
export type HeadReads = 'pan' | 'p2' | 'backbone';

export abstract class Head extends Module {
  abstract readonly nc: number;
  /** Export styles, the preferred one first: evaluation scores that one. */
  abstract readonly styles: readonly ExportStyle[];
  /** Ultralytics' metadata `stride`: the largest stride it predicts at. */
  abstract readonly stride: number;
  /** The named inference outputs of an export style. */
  abstract outputs(features: Tensor[], style: string, nms?: Partial<NmsSettings>): Record<string, Tensor>;
  /** The head's primary output (a model card counts it). */
  abstract override forward(...features: Tensor[]): Tensor;

  get evalStyle(): string {
    return this.styles[0]!.name;
  }

  style(name: string): ExportStyle {
    const s = this.styles.find((x) => x.name === name);
    if (!s)
      throw new Error(
        `a ${this.headName} head exports as style ${this.styles.map((x) => x.name).join(' or ')}, not "${name}"`,
      );
    return s;
  }

  /** The decoder layout of a style (throws for a style this head does not have). */
  styleLayout(name: string): string | null {
    return this.style(name).layout;
  }

  abstract readonly headName: string;
}

export interface HeadEntry {
  name: string;
  description: string;
  reads: HeadReads;
  styles: readonly ExportStyle[];
  /** `options`: what the architecture asks of its heads (YOLOv8's Detect is the `legacy` one). */
  build(o: { nc: number; channels: number[]; strides: number[]; options: Readonly<Record<string, unknown>> }): Head;
}

const registry = new Map<string, HeadEntry>();

export function registerHead(entry: HeadEntry): void {
  if (registry.has(entry.name)) throw new Error(`head ${entry.name} is registered twice`);
  registry.set(entry.name, entry);
}

export function headEntry(name: string): HeadEntry {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown head "${name}"; known: ${[...registry.keys()].join(', ')}`);
  return e;
}

export const headNames = (): string[] => [...registry.keys()];
export const headEntries = (): HeadEntry[] => [...registry.values()];
