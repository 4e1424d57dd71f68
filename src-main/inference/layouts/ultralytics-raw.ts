/** [B, 4 + C, N]: cx, cy, w, h in input pixels, then class scores (YOLOv8 / YOLO11 / Starling raw); NMS here. */
import { classAwareNms, type Candidate } from '../boxes.js';
import { rank3, registerLayout, single } from './layout.js';

registerLayout({
  name: 'ultralytics-raw',
  families: 'YOLOv8 / YOLO11 / Starling raw',
  expects: '[B, 4+C, N]',
  match: (outputs) => {
    const d = rank3(outputs);
    return d && d[1] > 4 && d[2] > d[1] ? 40 : null;
  },
  misfit: (outputs) => (rank3(outputs) && rank3(outputs)![1] > 4 ? null : '[B, 4+C, N]'),
  classCount: (outputs) => single(outputs)!.dims[1]! - 4,
  decode(outputs, b, o) {
    // Channel-major: a candidate's values are N apart.
    const t = single(outputs)!;
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
  },
});
