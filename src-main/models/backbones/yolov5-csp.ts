/**
 * YOLOv5 v6.0's backbones (layers 0-9 of yolov5s.yaml and of models/hub/yolov5s-ghost.yaml): a 6x6 stride-2 stem,
 * strided Convs (GhostConvs in the ghost one) and C3 (C3Ghost) blocks, and SPPF, under YOLOv5's layer numbering,
 * so a detector built on one is YOLOv5 layer for layer. Its maps at strides 4/8/16/32 are layers 2, 4, 6 and 9
 * (SPPF), the last of which the neck reads. YOLOv5 has no channel cap and rounds channels up to 8.
 */
import { LayeredBackbone, registerBackbone, type BackboneOptions } from '../backbone.js';
import { C3, C3Ghost, Conv, GhostConv, SPPF } from '../common.js';
import type { Module } from '../../engine/nn.js';

/** YOLOv5's parse_model: channels ceil to a multiple of 8, repeats rounded (at least 1). */
export function yolov5Scaling(width: number, depth: number) {
  return {
    ch: (c: number) => Math.ceil((c * width) / 8) * 8,
    n: (r: number) => (r > 1 ? Math.max(Math.round(r * depth), 1) : r),
  };
}

function build({ width = 1, depth = 1 }: BackboneOptions, ghost: boolean): LayeredBackbone {
  const { ch, n } = yolov5Scaling(width, depth);
  const down = (c1: number, c2: number): Module => (ghost ? new GhostConv(c1, c2, 3, 2) : new Conv(c1, c2, 3, 2));
  const csp = (c: number, r: number): Module => (ghost ? new C3Ghost(c, c, n(r)) : new C3(c, c, n(r)));
  return new LayeredBackbone(
    [
      [new Conv(3, ch(64), 6, 2, { p: 2 }), ch(64)],
      [down(ch(64), ch(128)), ch(128)],
      [csp(ch(128), 3), ch(128)],
      [down(ch(128), ch(256)), ch(256)],
      [csp(ch(256), 6), ch(256)],
      [down(ch(256), ch(512)), ch(512)],
      [csp(ch(512), 9), ch(512)],
      [down(ch(512), ch(1024)), ch(1024)],
      [csp(ch(1024), 3), ch(1024)],
      [new SPPF(ch(1024), ch(1024), 5), ch(1024)],
    ],
    [2, 4, 6, 9],
  );
}

registerBackbone({
  name: 'yolov5',
  family: 'yolov5',
  description: 'YOLOv5 v6.0 CSP backbone (Conv + C3, SPPF; YOLOv5 layers 0-9)',
  build: (o) => build(o, false),
});

registerBackbone({
  name: 'yolov5_ghost',
  family: 'yolov5',
  description: "YOLOv5's Ghost backbone (GhostConv + C3Ghost, SPPF; yolov5s-ghost.yaml layers 0-9)",
  build: (o) => build(o, true),
});
