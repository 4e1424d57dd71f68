import type { Tensor } from '../engine/ir.js';
import type { Module } from '../engine/nn.js';

/**
 * The backbone contract (timm's feature_info): a module that returns feature maps at increasing strides and
 * reports each one's stride and channels. Every family lives in one file under backbones/ and registers its
 * variants by name; the detector never learns a backbone's name.
 */
export interface FeatureInfo {
  stride: number;
  channels: number;
}

export interface Backbone extends Module {
  /** Feature maps in the order of `featureInfo` (strides 4, 8, 16, 32). */
  features(x: Tensor): Tensor[];
  readonly featureInfo: FeatureInfo[];
}

export interface BackboneOptions {
  /** Channel multiplier (the seeds' YOLO yaml passes it as the second argument). */
  width?: number;
  /** Depth multiplier, as the seeds pass it (see each family for whether it is used). */
  depth?: number;
}

export interface BackboneEntry {
  name: string;
  family: string;
  description: string;
  /** Default width/depth when used inside a detector of scale n/s/m/l/x. */
  build: (o: BackboneOptions) => Backbone;
}

const registry = new Map<string, BackboneEntry>();

export function registerBackbone(entry: BackboneEntry): void {
  if (registry.has(entry.name)) throw new Error(`backbone ${entry.name} is registered twice`);
  registry.set(entry.name, entry);
}

export function backboneEntry(name: string): BackboneEntry {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown backbone "${name}"; known: ${[...registry.keys()].join(', ')}`);
  return e;
}

export const backboneNames = (): string[] => [...registry.keys()];

/** Runs `layers` in sequence and returns the outputs of the layers at `taps` (feature maps for the neck). */
export function runTaps(layers: readonly Module[], x: Tensor, taps: readonly number[]): Tensor[] {
  const out: Tensor[] = [];
  let h = x;
  layers.forEach((m, i) => {
    h = m.forward(h);
    if (taps.includes(i)) out.push(h);
  });
  return out;
}
