/**
 * Exports a detector to ONNX: eval mode, BatchNorm folded, weights baked in, dynamic batch, in one of the
 * output styles: `raw` (Ultralytics layout [B, 4 + nc, N], output0), `nms` ([B, max_det, 6] with
 * NonMaxSuppression inside the graph), or for a bare backbone (`head: none`) its feature maps.
 */
import * as F from '../engine/functional.js';
import { inferenceModel } from '../engine/export.js';
import { peaks } from '../models/heads/centernet.js';
import type { Tensor } from '../engine/ir.js';
import type { Detector } from '../models/detector.js';
import { metadataProps } from './metadata.js';
import { nmsHead, type NmsOptions } from './postprocess.js';

export type OutputStyle = 'raw' | 'nms' | 'centernet';

export interface ExportOptions {
  imgsz: number;
  style: OutputStyle;
  names?: string[];
  nms?: Partial<NmsOptions>;
}

export function exportDetector(
  d: Detector,
  o: ExportOptions,
): { bytes: Uint8Array; folded: number; outputs: string[] } {
  if (o.imgsz % 32) throw new Error(`imgsz must be a multiple of 32, got ${o.imgsz}`);
  const names = o.names ?? Array.from({ length: d.config.nc }, (_, i) => `class${i}`);
  if (names.length !== d.config.nc) throw new Error(`${names.length} class names for a ${d.config.nc}-class model`);
  const isCenter = !!d.centernet;
  if (isCenter && o.style === 'nms')
    throw new Error('a centernet model exports as style centernet (peaks folded in) or raw');
  if (!isCenter && o.style === 'centernet')
    throw new Error(`style centernet needs a centernet head; this model's head is ${d.config.head}`);
  const style = d.head || isCenter ? o.style : 'features';
  const outputs = (x: Tensor): Record<string, Tensor> => {
    if (isCenter) {
      // centerX's output list: cls (heatmap; local maxima only when folded), reg, wh, all at stride 4.
      const m = d.centerMaps(x);
      const heat = F.sigmoid(m.cls);
      return { cls: o.style === 'centernet' ? peaks(heat) : heat, reg: m.reg, wh: m.wh };
    }
    if (!d.head) return Object.fromEntries(d.features(x).map((f, i) => [`feat${i}`, f]));
    const raw = d.forward(x);
    if (o.style === 'raw') return { output0: raw };
    return {
      output0: nmsHead(raw, { maxDet: o.nms?.maxDet ?? 300, iou: o.nms?.iou ?? 0.7, conf: o.nms?.conf ?? 0.25 }),
    };
  };
  const { bytes, folded } = inferenceModel(d, {
    input: { name: 'images', shape: [1, 3, o.imgsz, o.imgsz] },
    outputs,
    metadata: metadataProps({ names, imgsz: o.imgsz, stride: isCenter ? 4 : 32, config: d.config, style }),
  });
  const names2 = isCenter ? ['cls', 'reg', 'wh'] : d.head ? ['output0'] : d.outputStrides.map((_, i) => `feat${i}`);
  return { bytes, folded, outputs: names2 };
}
