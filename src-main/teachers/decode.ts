/**
 * Output decoders: turn a detector's raw ONNX outputs into boxes in network-input pixels.
 * Layouts handled so far (Starling's three export styles, which are also Ultralytics' layouts):
 *   ultralytics-raw  [B, 4 + C, N]      cx, cy, w, h then class scores (YOLOv8 / YOLO11 / Starling raw)
 *   ultralytics-nms  [B, max_det, 6]    x1, y1, x2, y2, score, class, zero-padded (nms=True, YOLOv10, Starling nms)
 *   centernet        cls [B, C, H, W] peak-folded heatmap, reg [B, 2, H, W], wh [B, 2, H, W] (centerX, stride 4)
 * Other families (YOLOv5, RT-DETR) arrive with the teachers issue.
 */
import { greedyNms } from '../engine/ops/detection.js';

export type Layout = 'ultralytics-raw' | 'ultralytics-nms' | 'centernet';

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
}

type Out = { dims: readonly number[]; data: Float32Array };

/** Picks the layout from the outputs' names and shapes; throws naming what was found and what was expected. */
export function detectLayout(outputs: Record<string, Out>): Layout {
  const names = Object.keys(outputs);
  if (names.includes('cls') && names.includes('reg') && names.includes('wh')) return 'centernet';
  if (names.length === 1) {
    const d = outputs[names[0]!]!.dims;
    if (d.length === 3 && d[2] === 6 && d[1]! <= 1000) return 'ultralytics-nms';
    if (d.length === 3 && d[1]! > 4 && d[2]! > d[1]!) return 'ultralytics-raw';
  }
  const found = names.map((n) => `${n} [${outputs[n]!.dims.join(', ')}]`).join(', ');
  throw new Error(
    `unrecognized detector outputs: ${found}; expected [B, 4+C, N] (YOLOv8/11), [B, max_det, 6] (NMS exports) or cls/reg/wh maps (CenterNet)`,
  );
}

export function decode(
  layout: Layout,
  outputs: Record<string, Out>,
  batchIndex: number,
  o: DecodeOptions,
): Detection[] {
  for (const [name, t] of Object.entries(outputs)) {
    for (const v of t.data) if (!Number.isFinite(v)) throw new Error(`output ${name} contains NaN or infinite values`);
  }
  if (layout === 'ultralytics-nms') {
    const t = Object.values(outputs)[0]!;
    const [, rows] = t.dims as [number, number, number];
    const out: Detection[] = [];
    for (let r = 0; r < rows; r++) {
      const o6 = (batchIndex * rows + r) * 6;
      const [x1, y1, x2, y2, score, cls] = Array.from(t.data.subarray(o6, o6 + 6)) as number[];
      if (score! <= o.conf) continue;
      out.push({ classId: Math.round(cls!), score: score!, box: [x1!, y1!, x2! - x1!, y2! - y1!] });
    }
    return out.slice(0, o.maxDet);
  }
  if (layout === 'ultralytics-raw') {
    const t = Object.values(outputs)[0]!;
    const [, ch, n] = t.dims as [number, number, number];
    const nc = ch - 4;
    const base = batchIndex * ch * n;
    const cand: { cls: number; score: number; xyxy: number[]; box: [number, number, number, number] }[] = [];
    for (let i = 0; i < n; i++) {
      let best = -1;
      let cls = 0;
      for (let c = 0; c < nc; c++) {
        const s = t.data[base + (4 + c) * n + i]!;
        if (s > best) [best, cls] = [s, c];
      }
      if (best <= o.conf) continue;
      const [cx, cy, w, h] = [0, 1, 2, 3].map((k) => t.data[base + k * n + i]!) as [number, number, number, number];
      cand.push({
        cls,
        score: best,
        xyxy: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
        box: [cx - w / 2, cy - h / 2, w, h],
      });
    }
    // Class-aware NMS: offset boxes by class so different classes never suppress each other.
    const shifted = cand.flatMap((c) => c.xyxy.map((v) => v + c.cls * 7680));
    const keep = greedyNms(
      shifted,
      0,
      cand.map((c) => c.score),
      0,
      cand.length,
      { maxOutput: o.maxDet, iouThreshold: o.iou, scoreThreshold: o.conf },
    );
    return keep.map((k) => ({ classId: cand[k]!.cls, score: cand[k]!.score, box: cand[k]!.box }));
  }
  // centernet: every pixel above the threshold in the peak-folded heatmap is a box (stride 4).
  const cls = outputs.cls!;
  const reg = outputs.reg!;
  const wh = outputs.wh!;
  const [, nc, h, w] = cls.dims as [number, number, number, number];
  const out: Detection[] = [];
  for (let c = 0; c < nc; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const s = cls.data[((batchIndex * nc + c) * h + y) * w + x]!;
        if (s < o.conf) continue;
        const at = (t: Out, k: number) => t.data[((batchIndex * 2 + k) * h + y) * w + x]!;
        const cx = (x + at(reg, 0)) * 4;
        const cy = (y + at(reg, 1)) * 4;
        const bw = at(wh, 0) * 4;
        const bh = at(wh, 1) * 4;
        out.push({ classId: c, score: s, box: [cx - bw / 2, cy - bh / 2, bw, bh] });
      }
  return out.sort((a, b) => b.score - a.score).slice(0, o.maxDet);
}
