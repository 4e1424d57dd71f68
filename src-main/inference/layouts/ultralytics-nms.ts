/** [B, max_det, 6]: x1, y1, x2, y2, score, class, zero-padded (Ultralytics nms=True, YOLOv10, Starling nms). */
import type { Detection } from '../boxes.js';
import { rank3, registerLayout, single } from './layout.js';

registerLayout({
  name: 'ultralytics-nms',
  families: 'YOLOv10 / Ultralytics nms=True / Starling nms',
  expects: '[B, max_det, 6]',
  match: (outputs) => {
    const d = rank3(outputs);
    return d && d[2] === 6 && d[1] <= 1000 ? 30 : null;
  },
  misfit: (outputs) => (rank3(outputs)?.[2] === 6 ? null : '[B, max_det, 6]'),
  classCount: () => null,
  decode(outputs, b, o) {
    const t = single(outputs)!;
    const rows = t.dims[1]!;
    const out: Detection[] = [];
    for (let r = 0; r < rows; r++) {
      const at = (b * rows + r) * 6;
      const [x1, y1, x2, y2, score, cls] = Array.from(t.data.subarray(at, at + 6)) as number[];
      if (score! <= o.conf) continue;
      out.push({ classId: Math.round(cls!), score: score!, box: [x1!, y1!, x2! - x1!, y2! - y1!] });
    }
    return out.slice(0, o.maxDet);
  },
});
