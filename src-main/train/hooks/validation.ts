/**
 * Validation after an epoch (every N, and always the last): the EMA weights (or the live weights, without EMA)
 * fed to the inference graph as inputs, one cached session for every validation, the val split predicted and
 * scored by the one evaluation path (eval/). Ultralytics' fitness picks the best epoch.
 */
import ort from 'onnxruntime-node';
import { Graph } from '../../engine/ir.js';
import { encodeModel } from '../../engine/onnx-writer.js';
import { cocoGroundTruth, classIndices, type EvalImage } from '../../eval/ground-truth.js';
import { predictImages } from '../../eval/predict.js';
import { cocoDetections, cocoScore } from '../../eval/score.js';
import { orZero } from '../../eval/summary.js';
import type { Trainer } from '../trainer.js';
import type { TrainerHook } from './hook.js';

/** Ultralytics' fitness: 0.1 mAP50 + 0.9 mAP50-95. */
export const fitness = (m: Record<string, number>) => 0.1 * (m.mAP50 ?? 0) + 0.9 * (m['mAP50-95'] ?? 0);

export class ValidationHook implements TrainerHook {
  private graph: { bytes: Uint8Array; inputs: string[] } | null = null;

  constructor(
    private readonly images: readonly EvalImage[],
    private readonly every: number,
  ) {}

  async afterEpoch(t: Trainer): Promise<void> {
    t.epochMetrics = {};
    t.isBest = false;
    const last = t.epoch === t.epochs - 1;
    if (!last && (t.epoch + 1) % this.every !== 0) return;
    const metrics = this.images.length ? await this.validate(t) : {};
    const f = fitness(metrics);
    t.epochMetrics = { ...metrics, fitness: f };
    if (f > t.bestFitness) {
      t.bestFitness = f;
      t.bestEpoch = t.epoch;
      t.isBest = true;
    }
  }

  /** COCO numbers of the evaluation weights on the validation images. */
  async validate(t: Trainer): Promise<Record<string, number>> {
    const size = t.settings.data.imgsz;
    const head = t.model.head;
    // The inference graph with weights as inputs: built once, one session for every validation.
    if (!this.graph) {
      const g = new Graph();
      t.model.eval();
      const outputs = head.outputs(t.model.features(g.input('images', [1, 3, size, size])), head.evalStyle);
      t.model.train(true);
      this.graph = encodeModel({
        graph: g,
        outputs,
        dynamicBatch: { inputs: ['images'], outputs: Object.keys(outputs) },
      });
    }
    const { bytes, inputs } = this.graph;
    const session = await t.runner.session('val', () => bytes);
    const weights = t.evalWeights();
    const shapes = new Map([...t.model.namedTensors()].map(([n, p]) => [n, p.shape]));
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of inputs)
      if (name !== 'images') feeds[name] = new ort.Tensor('float32', weights.get(name)!, [...shapes.get(name)!]);
    const { predictions } = await predictImages(this.images, {
      session,
      inputName: 'images',
      imgsz: size,
      layout: head.styleLayout(head.evalStyle)!,
      feeds,
    });
    const { summary } = cocoScore(
      cocoGroundTruth(this.images, classIndices(t.settings.model.nc)),
      cocoDetections(predictions),
    );
    return {
      'mAP50-95': orZero(summary.mAP),
      mAP50: orZero(summary.mAP50),
      mAP75: orZero(summary.mAP75),
      recall100: orZero(summary.AR100),
    };
  }
}
