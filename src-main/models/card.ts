/**
 * Model cards for the zoo listing and the backbone picker: parameters, trainable parameters, GFLOPs (counted
 * as Ultralytics does) and output strides/channels, for every backbone and every detector config.
 */
import { nameModules } from '../engine/nn.js';
import type { DetectorConfig } from './config.js';
import { architectureEntry } from './architecture.js';
import { modelFigures } from './flops.js';
import { backboneEntry, backboneNames, buildDetector } from './zoo.js';

export interface ModelCard {
  name: string;
  kind: 'backbone' | 'detector';
  config?: DetectorConfig;
  description: string;
  parameters: number;
  trainable: number;
  gflops: number;
  imgsz: number;
  strides: number[];
  channels: number[];
}

export function backboneCard(name: string, imgsz = 640, width = 1): ModelCard {
  const e = backboneEntry(name);
  const bb = nameModules(e.build({ width }));
  const f = modelFigures(bb, imgsz, (g) => void bb.features(g.input('images', [1, 3, imgsz, imgsz])));
  return {
    name,
    kind: 'backbone',
    description: `${e.description} (width ${width})`,
    ...f,
    strides: bb.featureInfo.map((i) => i.stride),
    channels: bb.featureInfo.map((i) => i.channels),
  };
}

/** `freeze`: the first N layers fixed, as a run with weights.freeze N trains it (`trainable` counts the rest). */
export function detectorCard(config: Partial<DetectorConfig>, imgsz = 640, freeze = 0): ModelCard {
  const d = buildDetector(config);
  d.freezeLayers(freeze);
  const f = modelFigures(d, imgsz, (g) => void d.forward(g.input('images', [1, 3, imgsz, imgsz])));
  const c = d.config;
  return {
    name: `${c.model}${c.scale}-${c.backbone}-${c.head}`,
    kind: 'detector',
    config: c,
    description: `${architectureEntry(c.model).description} at scale ${c.scale}, ${backboneEntry(c.backbone).description}, ${c.head} head, ${c.nc} classes`,
    ...f,
    strides: d.outputStrides,
    channels: d.outputChannels,
  };
}

/**
 * Every backbone (at width 1) and, unless only backbones are asked for, every detector (backbone x scale, yolo
 * head, 80 classes). Counting builds each model's graph: the full listing takes about 11 s on a 2-core machine,
 * so cards are kept once counted (they depend only on the code and the image size), and the backbone picker
 * asks for backbones only (about a second).
 */
export function zooCards(imgsz = 640, kind?: ModelCard['kind']): ModelCard[] {
  const cards: ModelCard[] = [];
  if (kind !== 'detector')
    for (const n of backboneNames()) cards.push(cached(`b:${n}:${imgsz}`, () => backboneCard(n, imgsz)));
  if (kind === 'backbone') return cards;
  for (const backbone of backboneNames()) {
    for (const scale of Object.keys(architectureEntry('yolo11').scales))
      cards.push(
        cached(`d:${backbone}:${scale}:${imgsz}`, () =>
          detectorCard({ backbone, scale: scale as DetectorConfig['scale'] }, imgsz),
        ),
      );
  }
  return cards;
}

const cardCache = new Map<string, ModelCard>();
function cached(key: string, make: () => ModelCard): ModelCard {
  let card = cardCache.get(key);
  if (!card) cardCache.set(key, (card = make()));
  return card;
}
