/**
 * Exports a detector to ONNX: eval mode, BatchNorm folded, weights baked in, dynamic batch, in one of the export
 * styles its head offers (models/heads/: yolo `raw` [B, 4 + nc, N] or `nms` [B, max_det, 6]; centernet
 * `centernet` with peaks folded in, or `raw`; none: the feature maps), with Ultralytics-compatible metadata.
 */
import { inferenceModel } from '../engine/export.js';
import type { Tensor } from '../engine/ir.js';
import type { Detector } from '../models/detector.js';
import type { NmsSettings } from '../models/head.js';
import { metadataProps } from './metadata.js';

export interface ExportOptions {
  imgsz: number;
  /** One of the head's styles; its preferred one when left out. */
  style?: string;
  names?: string[];
  nms?: Partial<NmsSettings>;
}

export function exportDetector(
  d: Detector,
  o: ExportOptions,
): { bytes: Uint8Array; folded: number; outputs: string[]; style: string } {
  if (o.imgsz % 32) throw new Error(`imgsz must be a multiple of 32, got ${o.imgsz}`);
  const names = o.names ?? Array.from({ length: d.config.nc }, (_, i) => `class${i}`);
  if (names.length !== d.config.nc) throw new Error(`${names.length} class names for a ${d.config.nc}-class model`);
  const style = d.head.style(o.style ?? d.head.evalStyle).name;
  let outputNames: string[] = [];
  const { bytes, folded } = inferenceModel(d, {
    input: { name: 'images', shape: [1, 3, o.imgsz, o.imgsz] },
    outputs: (x: Tensor) => {
      const out = d.head.outputs(d.features(x), style, o.nms);
      outputNames = Object.keys(out);
      return out;
    },
    metadata: metadataProps({ names, imgsz: o.imgsz, stride: d.head.stride, config: d.config, style }),
  });
  return { bytes, folded, outputs: outputNames, style };
}
