/** [B, Q, 4 + C]: normalized cx, cy, w, h, then sigmoid class scores, one box per query; no NMS (Ultralytics). */
import type { Detection } from '../boxes.js';
import { rank3, registerLayout, single } from './layout.js';

/** RT-DETR always answers with this many queries; no YOLOv5 grid has exactly 300 rows (3 x 21/16 x (s/8)^2). */
const DETR_QUERIES = 300;

registerLayout({
  name: 'rtdetr',
  families: 'RT-DETR (Ultralytics)',
  expects: '[B, Q, 4+C]',
  match: (outputs, metadata) => {
    const d = rank3(outputs);
    if (!d || !(d[2] > 4)) return null;
    // A 2-class RT-DETR has an NMS export's shape: its Ultralytics metadata tells them apart.
    if (/rt-?detr/i.test(`${metadata.description ?? ''} ${metadata.model ?? ''}`)) return 20;
    return d[1] === DETR_QUERIES ? 50 : null;
  },
  misfit: (outputs) => ((rank3(outputs)?.[2] ?? 0) > 4 ? null : '[B, Q, 4+C]'),
  classCount: (outputs) => single(outputs)!.dims[2]! - 4,
  decode(outputs, b, o) {
    const t = single(outputs)!;
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
  },
});
