/**
 * The YOLO11 CSP backbone (yolo11.yaml layers 0-8): Conv stem, strided Convs and C3k2 blocks, under Ultralytics'
 * layer numbering, so a detector built on it is YOLO11 layer for layer (`model.0` ... `model.8`) and its state
 * dict names are Ultralytics' own. Its maps at strides 4/8/16/32 are layers 2, 4, 6 and 8.
 */
import { registerBackbone, LayeredBackbone } from '../backbone.js';
import { C3k2, Conv, makeDivisible } from '../common.js';

registerBackbone({
  name: 'yolo11',
  family: 'yolo11',
  description: 'YOLO11 CSP backbone (Conv + C3k2, Ultralytics layers 0-8)',
  build: ({ width = 1, depth = 1, maxChannels = 1024, scale = 'n' }) => {
    const ch = (c: number) => makeDivisible(Math.min(c, maxChannels) * width, 8);
    const n = (r: number) => (r > 1 ? Math.max(Math.round(r * depth), 1) : r);
    // Ultralytics turns C3k on for scales m, l and x.
    const c3k = scale === 'm' || scale === 'l' || scale === 'x';
    return new LayeredBackbone(
      [
        [new Conv(3, ch(64), 3, 2), ch(64)],
        [new Conv(ch(64), ch(128), 3, 2), ch(128)],
        [new C3k2(ch(128), ch(256), n(2), c3k, 0.25), ch(256)],
        [new Conv(ch(256), ch(256), 3, 2), ch(256)],
        [new C3k2(ch(256), ch(512), n(2), c3k, 0.25), ch(512)],
        [new Conv(ch(512), ch(512), 3, 2), ch(512)],
        [new C3k2(ch(512), ch(512), n(2), true), ch(512)],
        [new Conv(ch(512), ch(1024), 3, 2), ch(1024)],
        [new C3k2(ch(1024), ch(1024), n(2), true), ch(1024)],
      ],
      [2, 4, 6, 8],
    );
  },
});
