/**
 * Detector architectures: how a family (YOLO11, ...) lays out the layers after the backbone and the neck that
 * feeds a head, as Ultralytics builds a model from its yaml: a numbered layer list (`model.<i>`), each layer
 * reading the previous output or earlier ones. One file per architecture under architectures/, registered by
 * name (the config's `model`).
 */
import * as F from '../engine/functional.js';
import type { Tensor } from '../engine/ir.js';
import type { Module } from '../engine/nn.js';
import type { Backbone } from './backbone.js';
import type { DetectorConfig } from './config.js';
import type { HeadReads } from './head.js';

export type From = number | number[];

export interface Layer {
  from: From;
  module: Module | null;
  run: (inputs: Tensor[]) => Tensor | Tensor[];
}

/** The layer list under construction: layer indices are positions in `channels`. */
export class LayerList {
  readonly layers: Layer[] = [];
  /** Output channels per layer index (0 for the empty index a plain backbone leaves). */
  readonly channels: number[] = [];

  constructor(private readonly container: Module) {}

  /** Appends a layer; a module is registered as `model.<index>`. Returns its index. */
  push(from: From, module: Module | null, run: Layer['run'], outCh: number): number {
    if (module) this.container.add(this.channels.length, module);
    this.layers.push({ from, module, run });
    this.channels.push(outCh);
    return this.channels.length - 1;
  }

  /** A module layer reading one input. */
  module(from: From, m: Module, outCh: number): number {
    return this.push(from, m, ([x]) => m.forward(x!), outCh);
  }

  upsample(): number {
    return this.push(-1, null, ([x]) => F.upsampleNearest2x(x!), this.channels.at(-1)!);
  }

  concat(from: number[]): number {
    return this.push(from, null, (xs) => F.concat(xs, 1), this.inChannels(from));
  }

  inChannels(from: From): number {
    return Array.isArray(from) ? from.reduce((s, f) => s + this.channels.at(f)!, 0) : this.channels.at(from)!;
  }

  get last(): number {
    return this.channels.length - 1;
  }

  /**
   * Places a backbone: a layered one takes one index per layer; a plain one is layer 0 and its four maps take
   * indices 1-4 (index 0 stays empty), as the seeds' parse_model does. Returns the indices of the four maps.
   */
  backbone(bb: Backbone): number[] {
    if (bb.layered) {
      const { layers, channels, taps } = bb.layered;
      layers.forEach((m, i) => this.module(-1, m, channels[i]!));
      return [...taps];
    }
    this.container.add(0, bb);
    this.layers.push({ from: -1, module: bb, run: ([x]) => bb.features(x!) });
    this.channels.push(0, ...bb.featureInfo.map((f) => f.channels));
    return [1, 2, 3, 4];
  }

  /** Runs the list on `x`; returns the outputs of layers `at`. */
  run(x: Tensor, at: readonly number[]): Tensor[] {
    const y: (Tensor | undefined)[] = [];
    let cur: Tensor = x;
    for (const layer of this.layers) {
      const ins = (Array.isArray(layer.from) ? layer.from : [layer.from]).map((f) => (f === -1 ? cur : y.at(f)!));
      const out = layer.run(ins);
      if (Array.isArray(out)) {
        // A plain backbone: index 0 stays empty, its maps take the next four indices.
        y.push(undefined, ...out);
        cur = out.at(-1)!;
      } else {
        y.push(out);
        cur = out;
      }
    }
    return at.map((i) => y[i]!);
  }
}

/** [depth, width, max_channels] per scale, as in the architecture's yaml. */
export type ScaleTable = Record<string, readonly [number, number, number]>;

export interface ArchitectureEntry {
  name: string;
  description: string;
  scales: ScaleTable;
  /** The backbone and head that make the architecture's own model (a short name like `yolov5s` means these). */
  own?: { backbone: string; head: string };
  /** Passed to the head's builder (YOLOv8 asks the yolo head for its legacy class branch). */
  headOptions?: Readonly<Record<string, unknown>>;
  /**
   * Builds the layers after the backbone and the neck for a head that reads `reads`, into `list` (which holds
   * the backbone at `taps`, strides 4/8/16/32). Returns the layer indices the head reads and their strides.
   */
  build(
    list: LayerList,
    o: { config: DetectorConfig; reads: HeadReads; taps: number[]; strides: number[] },
  ): { outputs: number[]; strides: number[] };
}

const registry = new Map<string, ArchitectureEntry>();

export function registerArchitecture(entry: ArchitectureEntry): void {
  if (registry.has(entry.name)) throw new Error(`architecture ${entry.name} is registered twice`);
  registry.set(entry.name, entry);
}

export function architectureEntry(name: string): ArchitectureEntry {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown architecture "${name}"; known: ${[...registry.keys()].join(', ')}`);
  return e;
}

export const architectureNames = (): string[] => [...registry.keys()];
