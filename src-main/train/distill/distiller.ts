/**
 * A head's distillation: how a teacher's outputs line up with the student's (dense distillation), the extra
 * loss terms in the train-step graph, and the feeds that carry a teacher's outputs for a batch. One file per head
 * in this folder, registered under the head's name (distill/index.ts imports them); a head without one distills
 * at box level only (teacher boxes as soft targets through its own objective).
 */
import type { Graph, Tensor } from '../../engine/ir.js';
import type { Outputs } from '../../inference/decode.js';
import type { Detector } from '../../models/detector.js';
import type { Feed } from '../../runtime/session.js';
import type { TeacherProbe } from '../../settings/teacher-config.js';

/** A head's raw training outputs: per-level maps (yolo) or named maps (centernet). */
export type HeadRaw = Tensor[] | Record<string, Tensor>;

/** A dense teacher as the graph sees it: which student classes it teaches and what its feeds carry. */
export interface DenseTeacherSpec {
  /** Student class indices it teaches. */
  owned: number[];
  /** Its feeds include box-distribution logits (a Starling teacher): the box term is a KL on them. */
  dfl: boolean;
}

/** What the train-step graph of a distillation run takes, fixed for the run. */
export interface DistillGraphSpec {
  /** Gain of the distillation terms. */
  weight: number;
  /** A class mask input for the label loss: some images are not labeled (label-free, partial). */
  classMask: boolean;
  /** Dense teachers, in order (their feeds are named `kd<i>_...`). */
  dense: DenseTeacherSpec[];
}

export interface Distiller {
  /** Whether outputs of this teacher line up with the student's own at input size `imgsz`. */
  aligned(probe: TeacherProbe, student: Detector, imgsz: number): boolean;
  /** The class-mask input's shape for the head's label loss, from [batch, nc]. */
  classMaskShape(batch: number, nc: number): number[];
  /**
   * Adds the dense teachers' inputs and returns their terms (raw) and their gained sum. `raw`: the head's raw
   * outputs as its objective computed them for the label loss (yolo: the per-level maps; centernet: cls/wh/reg),
   * so the student's head runs once.
   */
  loss(
    g: Graph,
    m: Detector,
    raw: HeadRaw,
    batch: number,
    spec: DistillGraphSpec,
  ): { loss: Tensor; terms: Record<string, Tensor> };
  /**
   * Feeds for dense teacher `index` from its raw outputs on the batch (`n` images): `toStudent` maps its classes
   * onto the student's (null: not taught), `owned` is the spec's.
   */
  denseFeeds(
    index: number,
    outputs: Outputs,
    n: number,
    o: { nc: number; toStudent: (number | null)[]; owned: number[]; dfl: boolean },
  ): Record<string, Feed>;
  /** Adaptive-weighting targets of its terms (names as `loss` returns them). */
  targets: Record<string, number>;
}

const registry = new Map<string, Distiller>();

export function registerDistiller(head: string, d: Distiller): void {
  if (registry.has(head)) throw new Error(`a distiller for head ${head} is registered twice`);
  registry.set(head, d);
}

/** The head's distiller, or null (box-level distillation only). */
export function distillerFor(head: string): Distiller | null {
  return registry.get(head) ?? null;
}
