/**
 * YOLOv8 (yolov8.yaml): SPPF closes the backbone section; the neck is a top-down path (upsample, concat, C2f) to
 * P3 and a bottom-up path (strided Conv, concat, C2f) back to P5, and the yolo head is v8's Detect (its class
 * branch without depthwise convs). With a plain backbone (StarNet, ...) this is seed 001's "StarNet in YOLOv8":
 * the backbone at index 0, its maps 1-4, SPPF at 5. A stride-4 head gets the top-down path extended to P2.
 * `yolov8-p2` (yolov8-p2.yaml) extends the top-down path to P2 for every head and predicts at P2-P5, strides
 * 4-32: four times the anchors, for objects a few pixels wide.
 */
import { registerArchitecture, type ArchitectureEntry } from '../architecture.js';
import { C2f, Conv, makeDivisible, SPPF } from '../common.js';

const SCALES = {
  n: [0.33, 0.25, 1024],
  s: [0.33, 0.5, 1024],
  m: [0.67, 0.75, 768],
  l: [1.0, 1.0, 512],
  x: [1.0, 1.25, 512],
} as const;

/** The neck, with the pan heads' outputs at P3-P5 or (`p2`) at P2-P5. */
function neck(p2: boolean): ArchitectureEntry['build'] {
  return (l, { config, reads, taps, strides }) => {
    const [depth, width, maxCh] = SCALES[config.scale as keyof typeof SCALES];
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
    let O3 = l.module(-1, new C2f(l.channels.at(-1)!, ch(256), n(3)), ch(256));
    const outputs: number[] = [];
    if (reads === 'p2' || p2) {
      l.upsample();
      l.concat([-1, P2]);
      const O2 = l.module(-1, new C2f(l.channels.at(-1)!, ch(128), n(3)), ch(128));
      if (reads === 'p2') return { outputs: [O2], strides: [strides[0]!] };
      outputs.push(O2);
      l.module(-1, new Conv(ch(128), ch(128), 3, 2), ch(128));
      l.concat([-1, O3]);
      O3 = l.module(-1, new C2f(l.channels.at(-1)!, ch(256), n(3)), ch(256));
    }
    l.module(-1, new Conv(ch(256), ch(256), 3, 2), ch(256));
    l.concat([-1, N4]);
    const O4 = l.module(-1, new C2f(l.channels.at(-1)!, ch(512), n(3)), ch(512));
    l.module(-1, new Conv(ch(512), ch(512), 3, 2), ch(512));
    l.concat([-1, P5]);
    const O5 = l.module(-1, new C2f(l.channels.at(-1)!, ch(1024), n(3)), ch(1024));
    outputs.push(O3, O4, O5);
    return { outputs, strides: strides.slice(4 - outputs.length) };
  };
}

/** What the two variants share: the family's own parts and scales, and v8's class branch. */
const FAMILY = { own: { backbone: 'yolov8', head: 'yolo' }, scales: SCALES, headOptions: { legacy: true } };

registerArchitecture({ ...FAMILY, name: 'yolov8', description: 'YOLOv8 neck (SPPF, C2f PAN)', build: neck(false) });
registerArchitecture({
  ...FAMILY,
  name: 'yolov8-p2',
  description: 'YOLOv8 neck with a stride-4 level (P2-P5, for small objects)',
  build: neck(true),
});
