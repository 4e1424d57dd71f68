/**
 * Output decoders: turn a detector's raw ONNX outputs into boxes in network-input pixels.
 *   ultralytics-raw  [B, 4 + C, N]      cx, cy, w, h then class scores (YOLOv8 / YOLO11 / Starling raw)
 *   ultralytics-nms  [B, max_det, 6]    x1, y1, x2, y2, score, class, zero-padded (nms=True, YOLOv10, Starling nms)
 *   yolov5           [B, N, 5 + C]      cx, cy, w, h, objectness, class probabilities (score = obj x class)
 *   rtdetr           [B, Q, 4 + C]      normalized cx, cy, w, h, sigmoid class scores; no NMS (Ultralytics RT-DETR)
 *   centernet        cls [B, C, H, W] peak-folded heatmap, reg [B, 2, H, W], wh [B, 2, H, W] (centerX, stride 4)
 */
import { greedyNms } from '../engine/ops/detection.js';

export const LAYOUTS = ['ultralytics-raw', 'ultralytics-nms', 'yolov5', 'rtdetr', 'centernet'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** What each layout is called in the UI and CLI, and which model families produce it. */
export const LAYOUT_FAMILIES: Record<Layout, string> = {
  'ultralytics-raw': 'YOLOv8 / YOLO11 / Starling raw',
  'ultralytics-nms': 'YOLOv10 / Ultralytics nms=True / Starling nms',
  yolov5: 'YOLOv5',
  rtdetr: 'RT-DETR (Ultralytics)',
  centernet: 'CenterNet / centerX / Starling centernet',
};

export interface Detection {
  classId: number;
  score: number;
  /** x, y, w, h in network-input pixels. */
  box: [number, number, number, number];
}

export interface DecodeOptions {
  conf: number;
  iou: number;
  maxDet: number;
  /** Network input size in pixels (RT-DETR boxes are normalized to it). */
  inputSize?: number;
}

export type Out = { dims: readonly number[]; data: Float32Array };

/** onnxruntime's result map as decoder outputs (float tensors: dims and data). */
export function asOutputs(res: Record<string, { dims: readonly number[]; data: unknown }>): Record<string, Out> {
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, { dims: v.dims, data: v.data as Float32Array }]));
}

/** RT-DETR always answers with this many queries; no YOLOv5 grid has exactly 300 rows (3 x 21/16 x (s/8)^2). */
const DETR_QUERIES = 300;

/**
 * Picks the layout from the outputs' names and shapes (and the model's metadata where shapes are ambiguous);
 * throws naming what was found and what was expected.
 */
export function detectLayout(outputs: Record<string, Out>, metadata: Record<string, string> = {}): Layout {
  const names = Object.keys(outputs);
  if (names.includes('cls') && names.includes('reg') && names.includes('wh')) return 'centernet';
  if (names.length === 1) {
    const d = outputs[names[0]!]!.dims;
    const claimsDetr = /rt-?detr/i.test(`${metadata.description ?? ''} ${metadata.model ?? ''}`);
    if (d.length === 3 && claimsDetr && d[2]! > 4) return 'rtdetr';
    if (d.length === 3 && d[2] === 6 && d[1]! <= 1000) return 'ultralytics-nms';
    if (d.length === 3 && d[1]! > 4 && d[2]! > d[1]!) return 'ultralytics-raw';
    if (d.length === 3 && d[1] === DETR_QUERIES && d[2]! > 4) return 'rtdetr';
    if (d.length === 3 && d[2]! > 5 && d[1]! > d[2]!) return 'yolov5';
  }
  const found = names.map((n) => `${n} [${outputs[n]!.dims.join(', ')}]`).join(', ');
  throw new Error(
    `unrecognized detector outputs: ${found}; expected one of [B, 4+C, N] (YOLOv8/11), [B, max_det, 6] ` +
      '(NMS exports, YOLOv10), [B, N, 5+C] (YOLOv5), [B, 300, 4+C] (RT-DETR) or cls/reg/wh maps (CenterNet)',
  );
}

/** Checks that `layout` can read these outputs (a manual family override must still fit the shapes). */
export function checkLayout(layout: Layout, outputs: Record<string, Out>): void {
  const names = Object.keys(outputs);
  const fail = (expected: string) => {
    const found = names.map((n) => `${n} [${outputs[n]!.dims.join(', ')}]`).join(', ');
    throw new Error(`outputs ${found} do not fit ${layout}: expected ${expected}`);
  };
  if (layout === 'centernet') {
    if (!['cls', 'reg', 'wh'].every((n) => outputs[n]?.dims.length === 4)) fail('cls, reg, wh maps [B, *, H, W]');
    return;
  }
  const d = outputs[names[0]!]?.dims ?? [];
  if (names.length !== 1 || d.length !== 3) fail('one output of rank 3');
  if (layout === 'ultralytics-nms' && d[2] !== 6) fail('[B, max_det, 6]');
  if (layout === 'ultralytics-raw' && !(d[1]! > 4)) fail('[B, 4+C, N]');
  if (layout === 'yolov5' && !(d[2]! > 5)) fail('[B, N, 5+C]');
  if (layout === 'rtdetr' && !(d[2]! > 4)) fail('[B, Q, 4+C]');
}

export function decode(
  layout: Layout,
  outputs: Record<string, Out>,
  batchIndex: number,
  o: DecodeOptions,
): Detection[] {
  // Only this batch item's slice: decoding a batch calls this once per item.
  for (const [name, t] of Object.entries(outputs)) {
    const per = t.data.length / (t.dims[0] || 1);
    const end = (batchIndex + 1) * per;
    for (let i = batchIndex * per; i < end; i++)
      if (!Number.isFinite(t.data[i]!)) throw new Error(`output ${name} contains NaN or infinite values`);
  }
  checkLayout(layout, outputs);
  const first = Object.values(outputs)[0]!;
  switch (layout) {
    case 'ultralytics-nms':
      return decodeNmsRows(first, batchIndex, o);
    case 'ultralytics-raw':
      return decodeChannelsFirst(first, batchIndex, o);
    case 'yolov5':
      return decodeYolov5(first, batchIndex, o);
    case 'rtdetr':
      return decodeDetr(first, batchIndex, o);
    case 'centernet':
      return decodeCenterNet(outputs, batchIndex, o);
  }
}

function decodeNmsRows(t: Out, b: number, o: DecodeOptions): Detection[] {
  const rows = t.dims[1]!;
  const out: Detection[] = [];
  for (let r = 0; r < rows; r++) {
    const at = (b * rows + r) * 6;
    const [x1, y1, x2, y2, score, cls] = Array.from(t.data.subarray(at, at + 6)) as number[];
    if (score! <= o.conf) continue;
    out.push({ classId: Math.round(cls!), score: score!, box: [x1!, y1!, x2! - x1!, y2! - y1!] });
  }
  return out.slice(0, o.maxDet);
}

interface Candidate {
  cls: number;
  score: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/** Class-aware greedy NMS: boxes are offset by class so different classes never suppress each other. */
export function classAwareNms(cand: Candidate[], o: DecodeOptions): Detection[] {
  const shifted = new Float64Array(cand.length * 4);
  cand.forEach((c, i) => {
    const off = c.cls * 7680;
    shifted.set([c.cx - c.w / 2 + off, c.cy - c.h / 2 + off, c.cx + c.w / 2 + off, c.cy + c.h / 2 + off], 4 * i);
  });
  const keep = greedyNms(
    shifted,
    0,
    cand.map((c) => c.score),
    0,
    cand.length,
    { maxOutput: o.maxDet, iouThreshold: o.iou, scoreThreshold: o.conf },
  );
  return keep.map((k) => {
    const c = cand[k]!;
    return { classId: c.cls, score: c.score, box: [c.cx - c.w / 2, c.cy - c.h / 2, c.w, c.h] };
  });
}

/** [B, 4 + C, N]: channel-major, so a candidate's values are N apart. */
function decodeChannelsFirst(t: Out, b: number, o: DecodeOptions): Detection[] {
  const [, ch, n] = t.dims as [number, number, number];
  const nc = ch - 4;
  const base = b * ch * n;
  const d = t.data;
  const cand: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    let cls = 0;
    for (let c = 0; c < nc; c++) {
      const s = d[base + (4 + c) * n + i]!;
      if (s > best) [best, cls] = [s, c];
    }
    if (best <= o.conf) continue;
    cand.push({
      cls,
      score: best,
      cx: d[base + i]!,
      cy: d[base + n + i]!,
      w: d[base + 2 * n + i]!,
      h: d[base + 3 * n + i]!,
    });
  }
  return classAwareNms(cand, o);
}

/** [B, N, 5 + C]: row-major; score = objectness x class probability, as YOLOv5's non_max_suppression. */
function decodeYolov5(t: Out, b: number, o: DecodeOptions): Detection[] {
  const [, n, ch] = t.dims as [number, number, number];
  const nc = ch - 5;
  const d = t.data;
  const cand: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    const at = (b * n + i) * ch;
    const obj = d[at + 4]!;
    if (obj <= o.conf) continue;
    let best = -Infinity;
    let cls = 0;
    for (let c = 0; c < nc; c++) {
      const s = d[at + 5 + c]! * obj;
      if (s > best) [best, cls] = [s, c];
    }
    if (best <= o.conf) continue;
    cand.push({ cls, score: best, cx: d[at]!, cy: d[at + 1]!, w: d[at + 2]!, h: d[at + 3]! });
  }
  return classAwareNms(cand, o);
}

/** [B, Q, 4 + C]: one box per query, normalized to the input; DETR needs no NMS. */
function decodeDetr(t: Out, b: number, o: DecodeOptions): Detection[] {
  const [, q, ch] = t.dims as [number, number, number];
  if (!o.inputSize) throw new Error('RT-DETR outputs are normalized: the decoder needs the input size');
  const s = o.inputSize;
  const d = t.data;
  const out: Detection[] = [];
  for (let i = 0; i < q; i++) {
    const at = (b * q + i) * ch;
    let best = -Infinity;
    let cls = 0;
    for (let c = 0; c < ch - 4; c++) {
      const v = d[at + 4 + c]!;
      if (v > best) [best, cls] = [v, c];
    }
    if (best <= o.conf) continue;
    const [cx, cy, w, h] = [d[at]! * s, d[at + 1]! * s, d[at + 2]! * s, d[at + 3]! * s];
    out.push({ classId: cls, score: best, box: [cx - w / 2, cy - h / 2, w, h] });
  }
  return out.sort((p, r) => r.score - p.score).slice(0, o.maxDet);
}

/** Every pixel above the threshold in the peak-folded heatmap is a box (stride = input / map size). */
function decodeCenterNet(outputs: Record<string, Out>, b: number, o: DecodeOptions): Detection[] {
  const cls = outputs.cls!;
  const reg = outputs.reg!;
  const wh = outputs.wh!;
  const [, nc, h, w] = cls.dims as [number, number, number, number];
  const stride = o.inputSize ? o.inputSize / w : 4;
  const out: Detection[] = [];
  for (let c = 0; c < nc; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const s = cls.data[((b * nc + c) * h + y) * w + x]!;
        if (s < o.conf || s <= 0) continue;
        const at = (t: Out, k: number) => t.data[((b * 2 + k) * h + y) * w + x]!;
        const cx = (x + at(reg, 0)) * stride;
        const cy = (y + at(reg, 1)) * stride;
        const bw = at(wh, 0) * stride;
        const bh = at(wh, 1) * stride;
        out.push({ classId: c, score: s, box: [cx - bw / 2, cy - bh / 2, bw, bh] });
      }
  return out.sort((p, q) => (p.score === q.score ? 0 : q.score - p.score)).slice(0, o.maxDet);
}
