/**
 * What a head needs from the trainer, one object per head: its loss graph and target inputs, the feeds for a
 * batch, and the inference outputs plus decoder layout that validation runs. Adding a head to training is one
 * objective here.
 */
import type { Graph, Tensor } from '../engine/ir.js';
import type { Detector } from '../models/detector.js';
import { peaks } from '../models/heads/centernet.js';
import * as F from '../engine/functional.js';
import type { Feed } from '../runtime/session.js';
import type { Layout } from '../inference/decode.js';
import { centernetLoss, centernetTargetInputs } from './centernet-loss.js';
import { centernetTargets } from './centernet-targets.js';
import type { Batch } from './loader.js';
import { yoloLoss } from './yolo-loss.js';

export interface Objective {
  /** Adds the target inputs and returns the loss with its named terms. */
  loss(g: Graph, model: Detector, images: Tensor, batch: number): { loss: Tensor; terms: Record<string, Tensor> };
  /** Target feeds for one batch (images are fed by the trainer). */
  feeds(batch: Batch): Record<string, Feed>;
  /** Inference outputs for validation, named as the decoder of `layout` expects. */
  outputs(model: Detector, images: Tensor): Record<string, Tensor>;
  layout: Layout;
}

/** Targets are padded to a fixed box count so one compiled graph serves every batch. */
export const MAX_BOXES = 64;

function paddedTargets(batch: Batch): Float32Array {
  const n = batch.files.length;
  const out = new Float32Array(n * MAX_BOXES * 6);
  const rows = Math.min(batch.maxBoxes, MAX_BOXES);
  for (let k = 0; k < n; k++) {
    out.set(batch.targets.subarray(k * batch.maxBoxes * 6, (k * batch.maxBoxes + rows) * 6), k * MAX_BOXES * 6);
  }
  return out;
}

export function yoloObjective(nc: number): Objective {
  return {
    layout: 'ultralytics-raw',
    loss(g, model, images, batch) {
      const t = g.input('targets', [batch, MAX_BOXES, 6]);
      const r = yoloLoss(g, model.levels(images), t, { nc, strides: model.outputStrides });
      return { loss: r.loss, terms: r.terms };
    },
    feeds: (batch) => ({
      targets: { dtype: 'float32', shape: [batch.files.length, MAX_BOXES, 6], data: paddedTargets(batch) },
    }),
    outputs: (model, images) => ({ output0: model.forward(images) }),
  };
}

export function centernetObjective(nc: number, imgsz: number): Objective {
  return {
    layout: 'centernet',
    loss(g, model, images, batch) {
      const maps = model.centerMaps(images);
      const [, , h, w] = maps.cls.shape as [number, number, number, number];
      const r = centernetLoss(maps, centernetTargetInputs(g, batch, nc, h, w));
      return { loss: r.loss, terms: r.terms };
    },
    feeds(batch) {
      const n = batch.files.length;
      const t = centernetTargets(batch.targets, n, batch.maxBoxes, nc, imgsz);
      const [h, w] = t.size;
      const f = (data: Float32Array, c: number): Feed => ({ dtype: 'float32', shape: [n, c, h, w], data });
      return {
        heatmap: f(t.heatmap, nc),
        centers: f(t.centers, nc),
        wh: f(t.wh, 2),
        reg: f(t.reg, 2),
        mask: f(t.mask, 1),
      };
    },
    outputs(model, images) {
      const m = model.centerMaps(images);
      return { cls: peaks(F.sigmoid(m.cls)), reg: m.reg, wh: m.wh };
    },
  };
}

export const objectiveFor = (model: Detector, imgsz: number): Objective =>
  model.centernet ? centernetObjective(model.config.nc, imgsz) : yoloObjective(model.config.nc);
