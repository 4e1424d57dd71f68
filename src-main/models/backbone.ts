import type { Tensor } from '../engine/ir.js';
import { Module } from '../engine/nn.js';

/**
 * The backbone contract (timm's feature_info): a module that returns feature maps at increasing strides and
 * reports each one's stride and channels. Every family lives in one file under backbones/ and registers its
 * variants by name; the detector never learns a backbone's name.
 *
 * A backbone is placed in a detector one of two ways, as the seeds do and as Ultralytics numbers layers:
 * - a plain backbone is layer 0 and its four maps take indices 1-4 (the seeds' StarNet/ShuffleNet/... yamls);
 * - a layered backbone (the YOLO CSP backbones) brings its own layer list, each layer a detector index of its
 *   own (`model.0` ... `model.8`), so its state dict names are Ultralytics' own.
 */
export interface FeatureInfo {
  stride: number;
  channels: number;
}

export interface Backbone extends Module {
  /** Feature maps in the order of `featureInfo` (strides 4, 8, 16, 32). */
  features(x: Tensor): Tensor[];
  readonly featureInfo: FeatureInfo[];
  /** A layered backbone's layers (detector indices 0..n-1), each one's output channels, and its four maps. */
  readonly layered?: { layers: readonly Module[]; channels: readonly number[]; taps: readonly number[] };
}

export interface BackboneOptions {
  /** Channel multiplier (the seeds' YOLO yaml passes it as the second argument). */
  width?: number;
  /** Depth multiplier, as the seeds pass it (see each family for whether it is used). */
  depth?: number;
  /** The detector scale's channel cap and name (the YOLO CSP backbones follow them, as Ultralytics' yaml does). */
  maxChannels?: number;
  scale?: string;
}

/**
 * How a family's reference checkpoints (ImageNet classifiers: the authors' releases, torchvision's) name their
 * tensors, so a backbone-only file loads into the backbone of a detector.
 */
export interface ReferenceCheckpoints {
  /** Which checkpoints these are, for reports and help. */
  source: string;
  /** The width the reference checkpoints are at, when the backbone scales with the detector (StarNet). */
  width?: number;
  /** A checkpoint tensor name to the backbone's own name; null drops it (the classifier); undefined: not ours. */
  rename(name: string): string | null | undefined;
}

/** A reference naming that is the backbone's own, minus classifier prefixes. */
export function sameNames(source: string, keep: readonly string[], drop: readonly string[], width?: number) {
  const under = (n: string, ps: readonly string[]) => ps.some((p) => n.startsWith(`${p}.`));
  return {
    source,
    ...(width !== undefined ? { width } : {}),
    rename: (n: string) => (under(n, keep) ? n : under(n, drop) ? null : undefined),
  } satisfies ReferenceCheckpoints;
}

export interface BackboneEntry {
  name: string;
  family: string;
  description: string;
  /** Its reference checkpoints' naming, when it has public ones. */
  reference?: ReferenceCheckpoints;
  /** Built at the width/depth of the detector scale it sits in (a card builds it at width 1). */
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

/**
 * A backbone that is a list of layers (a YOLO CSP backbone): standalone it runs them in order and returns the
 * maps at `taps`; in a detector its layers are spliced in one index each.
 */
export class LayeredBackbone extends Module implements Backbone {
  readonly layered: { layers: readonly Module[]; channels: readonly number[]; taps: readonly number[] };
  readonly featureInfo: FeatureInfo[];

  /** `layers` with each one's output channels; `taps` index the stride 4/8/16/32 maps. */
  constructor(
    layers: readonly (readonly [Module, number])[],
    taps: readonly number[],
    strides: readonly number[] = [4, 8, 16, 32],
  ) {
    super();
    const channels = layers.map(([, c]) => c);
    this.layered = { layers: layers.map(([m]) => m), channels, taps };
    this.featureInfo = taps.map((t, i) => ({ stride: strides[i]!, channels: channels[t]! }));
    this.layered.layers.forEach((m, i) => this.add(i, m));
  }

  features(x: Tensor): Tensor[] {
    return runTaps(this.layered.layers, x, this.layered.taps);
  }

  forward(x: Tensor): Tensor {
    return this.features(x).at(-1)!;
  }
}
