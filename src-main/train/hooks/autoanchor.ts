/**
 * Autoanchor for a yolov5 head (YOLOv5's check_anchors), once before the first epoch of a new run: it reports how
 * well the anchors fit the training boxes and, when they fit poorly (best possible recall 0.98 or less), refits
 * them (train/autoanchor.ts) into the head's `anchors` buffer, which the checkpoints and the export carry.
 */
import type { Source } from '../../inference/letterbox.js';
import type { AnchorDetect } from '../../models/heads/yolov5-detect.js';
import { checkAnchors } from '../autoanchor.js';
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

export class AutoAnchorHook implements TrainerHook {
  constructor(
    private readonly train: readonly Source[],
    private readonly imgsz: number,
    private readonly log: (line: string) => void,
  ) {}

  beforeTrain(t: Trainer): void {
    const head = t.model.head as AnchorDetect;
    const r = checkAnchors(this.train, head.anchors, { imgsz: this.imgsz, seed: t.settings.seed });
    const fit = (f: { bpr: number; anchorsPerBox: number }) =>
      `${f.anchorsPerBox.toFixed(2)} anchors/target, best possible recall ${f.bpr.toFixed(4)}`;
    let line = `autoanchor: ${fit(r.before)} on ${r.boxes} boxes`;
    if (!r.boxes) line = 'autoanchor: no training boxes in images of known size; kept the anchors';
    else if (!r.after) line += ': the anchors fit the data';
    else if (!r.replaced) line += `; refitted ones reach ${fit(r.after)}: kept the anchors`;
    else {
      head.setAnchors(r.anchors);
      const px = r.anchors.map((l) => l.map(([w, h]) => `${Math.round(w)}x${Math.round(h)}`).join(' ')).join(' | ');
      line += `; refitted to ${px} (${fit(r.after)})`;
    }
    this.log(line);
  }
}
