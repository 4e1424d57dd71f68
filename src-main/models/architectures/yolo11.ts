/**
 * YOLO11 (yolo11.yaml): after the backbone, SPPF and C2PSA close the backbone section; the neck is a top-down
 * path (upsample, concat, C3k2) to P3 and a bottom-up path (strided Conv, concat, C3k2) back to P5. A head that
 * predicts at stride 4 (CenterNet, as centerX does) gets the top-down path extended to P2 instead of the
 * bottom-up path. With a plain backbone this is the seeds' YOLO11 integration (backbone at index 0, maps 1-4).
 * `yolo11-p2` is yolov8-p2.yaml's layout on YOLO11's blocks: the top-down path extended to P2 and the bottom-up
 * path starting there, predicting at P2-P5 (strides 4-32), for objects a few pixels wide.
 */
import { registerArchitecture, type ArchitectureEntry } from '../architecture.js';
import { C2PSA, C3k2, Conv, makeDivisible, SPPF } from '../common.js';

const SCALES = {
  n: [0.5, 0.25, 1024],
  s: [0.5, 0.5, 1024],
  m: [0.5, 1.0, 512],
  l: [1.0, 1.0, 512],
  x: [1.0, 1.5, 512],
} as const;

/** The neck, with the pan heads' outputs at P3-P5 or (`p2`) at P2-P5. */
function neck(p2: boolean): ArchitectureEntry['build'] {
  return (l, { config, reads, taps, strides }) => {
    const [depth, width, maxCh] = SCALES[config.scale as keyof typeof SCALES];
    const ch = (c: number) => makeDivisible(Math.min(c, maxCh) * width, 8);
    const n = (r: number) => (r > 1 ? Math.max(Math.round(r * depth), 1) : r);
    const c3k = config.scale === 'm' || config.scale === 'l' || config.scale === 'x';
    // A bare backbone (head none) is its own four maps.
    if (reads === 'backbone') return { outputs: taps, strides };
    const [P2, P3, P4] = taps as [number, number, number, number];
    l.module(-1, new SPPF(l.channels.at(-1)!, ch(1024), 5), ch(1024));
    const P5 = l.module(-1, new C2PSA(ch(1024), ch(1024), n(2)), ch(1024));

    l.upsample();
    l.concat([-1, P4]);
    const N4 = l.module(-1, new C3k2(l.channels.at(-1)!, ch(512), n(2), c3k), ch(512));
    l.upsample();
    l.concat([-1, P3]);
    let O3 = l.module(-1, new C3k2(l.channels.at(-1)!, ch(256), n(2), c3k), ch(256));
    const outputs: number[] = [];
    if (reads === 'p2' || p2) {
      l.upsample();
      l.concat([-1, P2]);
      const O2 = l.module(-1, new C3k2(l.channels.at(-1)!, ch(128), n(2), c3k), ch(128));
      if (reads === 'p2') return { outputs: [O2], strides: [strides[0]!] };
      outputs.push(O2);
      l.module(-1, new Conv(ch(128), ch(128), 3, 2), ch(128));
      l.concat([-1, O3]);
      O3 = l.module(-1, new C3k2(l.channels.at(-1)!, ch(256), n(2), c3k), ch(256));
    }
    l.module(-1, new Conv(ch(256), ch(256), 3, 2), ch(256));
    l.concat([-1, N4]);
    const O4 = l.module(-1, new C3k2(l.channels.at(-1)!, ch(512), n(2), c3k), ch(512));
    l.module(-1, new Conv(ch(512), ch(512), 3, 2), ch(512));
    l.concat([-1, P5]);
    const O5 = l.module(-1, new C3k2(l.channels.at(-1)!, ch(1024), n(2), true), ch(1024));
    outputs.push(O3, O4, O5);
    return { outputs, strides: strides.slice(4 - outputs.length) };
  };
}

/** What the two variants share: the family's own parts and scales. */
const FAMILY = { own: { backbone: 'yolo11', head: 'yolo' }, scales: SCALES };

registerArchitecture({
  ...FAMILY,
  name: 'yolo11',
  description: 'YOLO11 neck (SPPF, C2PSA, C3k2 PAN)',
  build: neck(false),
});
registerArchitecture({
  ...FAMILY,
  name: 'yolo11-p2',
  description: 'YOLO11 neck with a stride-4 level (P2-P5, for small objects)',
  build: neck(true),
});
