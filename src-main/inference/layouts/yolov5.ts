/** [B, N, 5 + C]: cx, cy, w, h, objectness, class probabilities; score = obj x class, as YOLOv5's NMS does. */
import { classAwareNms, type Candidate } from '../boxes.js';
import { rank3, registerLayout, single } from './layout.js';

registerLayout({
  name: 'yolov5',
  families: 'YOLOv5',
  expects: '[B, N, 5+C]',
  match: (outputs) => {
    const d = rank3(outputs);
    return d && d[2] > 5 && d[1] > d[2] ? 60 : null;
  },
  misfit: (outputs) => ((rank3(outputs)?.[2] ?? 0) > 5 ? null : '[B, N, 5+C]'),
  classCount: (outputs) => single(outputs)!.dims[2]! - 5,
  decode(outputs, b, o) {
    const t = single(outputs)!;
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
  },
});
