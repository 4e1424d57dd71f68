/**
 * CenterNet (centerX, Starling centernet): cls [B, C, H, W] with centerX's peak extraction folded into the graph
 * (only local maxima are non-zero), reg [B, 2, H, W] sub-cell offsets and wh [B, 2, H, W] sizes, in stride units.
 * Every pixel above the threshold is a box; the stride is the input size over the map width.
 */
import type { Detection } from '../boxes.js';
import { registerLayout, type Out } from './layout.js';

const MAPS = ['cls', 'reg', 'wh'];

registerLayout({
  name: 'centernet',
  families: 'CenterNet / centerX / Starling centernet',
  expects: 'cls, reg, wh maps [B, *, H, W]',
  match: (outputs) => (MAPS.every((n) => n in outputs) ? 10 : null),
  misfit: (outputs) => (MAPS.every((n) => outputs[n]?.dims.length === 4) ? null : 'cls, reg, wh maps [B, *, H, W]'),
  classCount: (outputs) => outputs.cls!.dims[1]!,
  decode(outputs, b, o) {
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
  },
});
