/**
 * A detector = backbone + architecture (the layers after the backbone and the neck) + head, built as Ultralytics
 * builds a model from its yaml: a numbered layer list (`model.<i>`), each layer reading the previous output or
 * earlier ones, the head last. Each of the three parts is registered by name (backbones/, architectures/,
 * heads/); the detector never learns their names.
 */
import type { Tensor } from '../engine/ir.js';
import { Module } from '../engine/nn.js';
import { architectureEntry, LayerList } from './architecture.js';
import { backboneEntry } from './backbone.js';
import type { DetectorConfig } from './config.js';
import { headEntry, type Head } from './head.js';

export class Detector extends Module {
  private readonly list: LayerList;
  readonly head: Head;
  /** Number of layer indices, the head's included (Ultralytics' `model.<i>` count). */
  readonly layerCount: number;
  /** Indices of the maps the head reads. */
  readonly outputs: number[];
  readonly outputStrides: number[];
  readonly outputChannels: number[];
  /** Where the backbone's own tensor names sit in the detector (a plain backbone is `model.0`). */
  readonly backbonePrefix: string;
  /** The head's tensor names begin with this (`model.<last index>.`). */
  readonly headPrefix: string;
  /** Layer indices the backbone's modules take (a plain backbone: 0 only; a layered one: 0..n-1). */
  private readonly backboneLayers: number;

  constructor(readonly config: DetectorConfig) {
    super();
    const arch = architectureEntry(config.model);
    const scale = arch.scales[config.scale];
    if (!scale)
      throw new Error(`${config.model} has no scale "${config.scale}"; it has ${Object.keys(arch.scales).join(', ')}`);
    const [depth, width, maxChannels] = scale;
    const head = headEntry(config.head);
    const model = this.add(
      'model',
      new (class extends Module {
        forward(): Tensor {
          throw new Error('not callable');
        }
      })(),
    );
    this.list = new LayerList(model);
    const bb = backboneEntry(config.backbone).build({
      width: config.backboneWidth ?? width,
      depth,
      maxChannels,
      scale: config.scale,
    });
    if (bb.featureInfo.length !== 4)
      throw new Error(`backbone ${config.backbone} must give 4 feature maps (strides 4-32)`);
    const taps = this.list.backbone(bb);
    this.backbonePrefix = bb.layered ? 'model.' : 'model.0.';
    this.backboneLayers = bb.layered ? bb.layered.layers.length : 1;
    const built = arch.build(this.list, {
      config,
      reads: head.reads,
      taps,
      strides: bb.featureInfo.map((f) => f.stride),
    });
    this.outputs = built.outputs;
    this.outputStrides = built.strides;
    this.outputChannels = this.outputs.map((i) => this.list.channels[i]!);
    this.head = head.build({
      nc: config.nc,
      channels: this.outputChannels,
      strides: this.outputStrides,
      options: arch.headOptions ?? {},
    });
    model.add(this.list.channels.length, this.head);
    this.layerCount = this.list.channels.length + 1;
    this.headPrefix = `model.${this.layerCount - 1}.`;
  }

  /**
   * Freezes the first `n` layers (`model.0` ... `model.<n-1>`), as Ultralytics' freeze=N: their parameters get no
   * gradient and no update (BatchNorm statistics still move, as there). Returns the frozen parameter elements,
   * the always-fixed DFL projection included.
   */
  freezeLayers(n: number): number {
    let frozen = 0;
    for (const [name, p] of this.namedTensors()) {
      if (p.kind !== 'param') continue;
      const m = /^model\.(\d+)\./.exec(name);
      if (m && Number(m[1]) < n) p.requiresGrad = false;
      if (!p.requiresGrad) frozen += p.size;
    }
    return frozen;
  }

  /** Whether a tensor (by its detector name) belongs to the backbone. */
  isBackboneTensor(name: string): boolean {
    const m = /^model\.(\d+)\./.exec(name);
    return !!m && Number(m[1]) < this.backboneLayers;
  }

  /** The maps the head reads. */
  features(x: Tensor): Tensor[] {
    return this.list.run(x, this.outputs);
  }

  /** The head's primary output: yolo decoded [B, 4 + nc, N]; centernet the sigmoid heatmap; none a feature map. */
  forward(x: Tensor): Tensor {
    return this.head.forward(...this.features(x));
  }
}
