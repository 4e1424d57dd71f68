import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { StarlingError } from '../errors.js';
import { measureLatency } from '../runtime/latency.js';
import { faultPoint } from '../util/fault.js';
import { writeFileAtomic } from '../util/files.js';
import { buildDetector } from '../models/zoo.js';
import { formatWeightReport, loadWeights } from '../models/weights.js';
import { exportDetector } from './detector.js';

export interface ExportModelResult {
  out: string;
  bytes: number;
  /** The input size the model was exported at. */
  imgsz: number;
  folded: number;
  outputs: string[];
  /** What the export run on onnxruntime measured: output shapes and latency (median of 20 after warm-up). */
  verified: { shapes: Record<string, number[]>; latencyMs: number };
  weights?: { matched: number; missing: number; unexpected: number; shapeMismatch: number; report: string };
}

export interface ExportModelOptions {
  config: Record<string, unknown>;
  weights?: string;
  out: string;
  /** One of the head's export styles; its preferred one when left out. */
  style?: string;
  imgsz: number;
  names?: string[];
  conf: number;
  iou: number;
  maxDet: number;
  /** Replace a file already at `out` (the default); the UI first asks with false, then asks the user. */
  overwrite?: boolean;
}

/**
 * Builds the detector, loads weights, writes the ONNX atomically, then runs it once on onnxruntime to verify
 * it loads and to report its output shapes and latency.
 */
export async function exportModel(o: ExportModelOptions): Promise<ExportModelResult> {
  if (o.overwrite === false && fs.existsSync(path.resolve(o.out)))
    throw new StarlingError('CONFLICT', `${path.resolve(o.out)} exists: replace it, or choose another file`);
  let d;
  try {
    d = buildDetector(o.config);
  } catch (e) {
    throw new StarlingError('INVALID_INPUT', (e as Error).message);
  }
  let weights: ExportModelResult['weights'];
  if (o.weights) {
    try {
      const r = loadWeights(d, path.resolve(o.weights));
      weights = {
        matched: r.matched.length,
        missing: r.missing.length,
        unexpected: r.unexpected.length,
        shapeMismatch: r.shapeMismatch.length,
        report: formatWeightReport(r),
      };
    } catch (e) {
      throw new StarlingError('FORMAT', (e as Error).message);
    }
  }
  let exported;
  try {
    exported = exportDetector(d, {
      imgsz: o.imgsz,
      style: o.style,
      ...(o.names ? { names: o.names } : {}),
      nms: { conf: o.conf, iou: o.iou, maxDet: o.maxDet },
    });
  } catch (e) {
    throw new StarlingError('INVALID_INPUT', (e as Error).message);
  }
  const { bytes, folded, outputs } = exported;
  const out = path.resolve(o.out);
  writeFileAtomic(out, (fd) => {
    const half = bytes.length >> 1;
    fs.writeSync(fd, bytes, 0, half);
    faultPoint('export-write');
    fs.writeSync(fd, bytes, half, bytes.length - half);
  });

  const session = await ort.InferenceSession.create(out);
  const x = new ort.Tensor('float32', new Float32Array(3 * o.imgsz * o.imgsz).fill(0.5), [1, 3, o.imgsz, o.imgsz]);
  const { medianMs: latencyMs, outputs: res } = await measureLatency(session, { images: x });
  await session.release();
  return {
    out,
    bytes: bytes.length,
    imgsz: o.imgsz,
    folded,
    outputs,
    verified: { shapes: Object.fromEntries(Object.entries(res).map(([k, v]) => [k, [...v.dims]])), latencyMs },
    ...(weights ? { weights } : {}),
  };
}
