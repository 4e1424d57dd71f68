/**
 * The YOLOv8 CSP backbone (yolov8.yaml layers 0-8): Conv stem, strided Convs and C2f blocks with shortcuts, under
 * Ultralytics' layer numbering (`model.0` ... `model.8`), so a yolov8n.pt loads by name. Its maps at strides
 * 4/8/16/32 are layers 2, 4, 6 and 8.
 */
import { registerBackbone, LayeredBackbone } from '../backbone.js';
import { C2f, Conv, makeDivisible } from '../common.js';

registerBackbone({
  name: 'yolov8',
  family: 'yolov8',
  description: 'YOLOv8 CSP backbone (Conv + C2f, Ultralytics layers 0-8)',
  build: ({ width = 1, depth = 1, maxChannels = 1024 }) => {
    const ch = (c: number) => makeDivisible(Math.min(c, maxChannels) * width, 8);
    const n = (r: number) => (r > 1 ? Math.max(Math.round(r * depth), 1) : r);
    return new LayeredBackbone(
      [
        [new Conv(3, ch(64), 3, 2), ch(64)],
        [new Conv(ch(64), ch(128), 3, 2), ch(128)],
        [new C2f(ch(128), ch(128), n(3), true), ch(128)],
        [new Conv(ch(128), ch(256), 3, 2), ch(256)],
        [new C2f(ch(256), ch(256), n(6), true), ch(256)],
        [new Conv(ch(256), ch(512), 3, 2), ch(512)],
        [new C2f(ch(512), ch(512), n(6), true), ch(512)],
        [new Conv(ch(512), ch(1024), 3, 2), ch(1024)],
        [new C2f(ch(1024), ch(1024), n(3), true), ch(1024)],
      ],
      [2, 4, 6, 8],
    );
  },
});
