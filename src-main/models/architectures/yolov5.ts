/**
 * YOLOv5 v6.0's head section (yolov5s.yaml layers 10-23, and the Ghost one of models/hub/yolov5s-ghost.yaml): a
 * top-down path (1x1 Conv, upsample, concat, C3 without shortcuts) to P3 and a bottom-up path (strided Conv,
 * concat with the top-down 1x1 Conv's output, C3) back to P5; the anchor-based Detect (heads/yolov5-detect.ts)
 * reads P3-P5. SPPF belongs to YOLOv5's own backbones (backbones/yolov5-csp.ts); a plain backbone goes straight
 * into the head section, as seed 002's yolov5-shufflenetv2.yaml and yolov5-mobilenetv3-small.yaml do.
 * A stride-4 head gets the top-down path extended to P2 the same way.
 */
import type { Module } from '../../engine/nn.js';
import { registerArchitecture, type ArchitectureEntry } from '../architecture.js';
import { yolov5Scaling } from '../backbones/yolov5-csp.js';
import { C3, C3Ghost, Conv, GhostConv } from '../common.js';

const SCALES = {
  n: [0.33, 0.25, 1024],
  s: [0.33, 0.5, 1024],
  m: [0.67, 0.75, 1024],
  l: [1.0, 1.0, 1024],
  x: [1.33, 1.25, 1024],
} as const;

function entry(name: string, description: string, ghost: boolean): ArchitectureEntry {
  return {
    name,
    description,
    scales: SCALES,
    own: { backbone: ghost ? 'yolov5_ghost' : 'yolov5', head: 'yolov5' },
    build(l, { config, reads, taps, strides }) {
      const [depth, width] = this.scales[config.scale]!;
      const { ch, n } = yolov5Scaling(width, depth);
      if (reads === 'backbone') return { outputs: taps, strides };
      const conv = (c1: number, c2: number, k: number, s: number): Module =>
        ghost ? new GhostConv(c1, c2, k, s) : new Conv(c1, c2, k, s);
      const csp = (c1: number, c2: number): Module =>
        ghost ? new C3Ghost(c1, c2, n(3), false) : new C3(c1, c2, n(3), false);
      const [P2, P3, P4] = taps as [number, number, number, number];

      const H5 = l.module(-1, conv(l.channels.at(-1)!, ch(512), 1, 1), ch(512));
      l.upsample();
      l.concat([-1, P4]);
      l.module(-1, csp(l.channels.at(-1)!, ch(512)), ch(512));
      const H4 = l.module(-1, conv(ch(512), ch(256), 1, 1), ch(256));
      l.upsample();
      l.concat([-1, P3]);
      const O3 = l.module(-1, csp(l.channels.at(-1)!, ch(256)), ch(256));
      if (reads === 'p2') {
        l.module(-1, conv(ch(256), ch(128), 1, 1), ch(128));
        l.upsample();
        l.concat([-1, P2]);
        const O2 = l.module(-1, csp(l.channels.at(-1)!, ch(128)), ch(128));
        return { outputs: [O2], strides: [strides[0]!] };
      }
      l.module(-1, conv(ch(256), ch(256), 3, 2), ch(256));
      l.concat([-1, H4]);
      const O4 = l.module(-1, csp(l.channels.at(-1)!, ch(512)), ch(512));
      l.module(-1, conv(ch(512), ch(512), 3, 2), ch(512));
      l.concat([-1, H5]);
      const O5 = l.module(-1, csp(l.channels.at(-1)!, ch(1024)), ch(1024));
      return { outputs: [O3, O4, O5], strides: strides.slice(1) };
    },
  };
}

registerArchitecture(entry('yolov5', 'YOLOv5 v6.0 head section (C3 PAN, no SPPF of its own)', false));
registerArchitecture(entry('yolov5-ghost', "YOLOv5's Ghost head section (GhostConv, C3Ghost PAN)", true));
