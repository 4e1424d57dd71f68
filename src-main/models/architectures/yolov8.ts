/**
 * YOLOv8 (yolov8.yaml): SPPF closes the backbone section; the neck is a top-down path (upsample, concat, C2f) to
 * P3 and a bottom-up path (strided Conv, concat, C2f) back to P5, and the yolo head is v8's Detect (its class
 * branch without depthwise convs). With a plain backbone (StarNet, ...) this is seed 001's "StarNet in YOLOv8":
 * the backbone at index 0, its maps 1-4, SPPF at 5. A stride-4 head gets the top-down path extended to P2.
 */
import { registerArchitecture } from '../architecture.js';
import { C2f, Conv, makeDivisible, SPPF } from '../common.js';

registerArchitecture({
  name: 'yolov8',
  own: { backbone: 'yolov8', head: 'yolo' },
  description: 'YOLOv8 neck (SPPF, C2f PAN)',
  scales: {
    n: [0.33, 0.25, 1024],
    s: [0.33, 0.5, 1024],
    m: [0.67, 0.75, 768],
    l: [1.0, 1.0, 512],
    x: [1.0, 1.25, 512],
  },
  headOptions: { legacy: true },
  build(l, { config, reads, taps, strides }) {
    const [depth, width, maxCh] = this.scales[config.scale]!;
    const ch = (c: number) => makeDivisible(Math.min(c, maxCh) * width, 8);
    const n = (r: number) => (r > 1 ? Math.max(Math.round(r * depth), 1) : r);
    if (reads === 'backbone') return { outputs: taps, strides };
    const [P2, P3, P4] = taps as [number, number, number, number];
    const P5 = l.module(-1, new SPPF(l.channels.at(-1)!, ch(1024), 5), ch(1024));

    l.upsample();
    l.concat([-1, P4]);
    const N4 = l.module(-1, new C2f(l.channels.at(-1)!, ch(512), n(3)), ch(512));
    l.upsample();
    l.concat([-1, P3]);
    const O3 = l.module(-1, new C2f(l.channels.at(-1)!, ch(256), n(3)), ch(256));
    if (reads === 'p2') {
      l.upsample();
      l.concat([-1, P2]);
      const O2 = l.module(-1, new C2f(l.channels.at(-1)!, ch(128), n(3)), ch(128));
      return { outputs: [O2], strides: [strides[0]!] };
    }
    l.module(-1, new Conv(ch(256), ch(256), 3, 2), ch(256));
    l.concat([-1, N4]);
    const O4 = l.module(-1, new C2f(l.channels.at(-1)!, ch(512), n(3)), ch(512));
    l.module(-1, new Conv(ch(512), ch(512), 3, 2), ch(512));
    l.concat([-1, P5]);
    const O5 = l.module(-1, new C2f(l.channels.at(-1)!, ch(1024), n(3)), ch(1024));
    return { outputs: [O3, O4, O5], strides: strides.slice(1) };
  },
});
