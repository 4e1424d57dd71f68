/** Domain records as the store returns them. Shared by the API, the CLI and the renderer (type-only). */
import type { RunSettings } from '../settings/run-settings.js';
import type { TeacherConfig } from '../settings/teacher-config.js';

import type { Split } from '../settings/splits.js';

export { SPLITS, type Split } from '../settings/splits.js';

export const IMAGE_STATUSES = ['unlabeled', 'labeled', 'reviewed'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export const REVIEW_STATES = ['pending', 'accepted', 'rejected'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

/** `manual`, `teacher:<id>` or `model:<run>`. */
export type AnnotationSource = string;

export interface ClassRecord {
  id: number;
  name: string;
  color: string;
  order: number;
}

export interface ImageRecord {
  id: number;
  /** Relative to the project root (forward slashes) when inside it, else absolute. */
  path: string;
  hash: string;
  width: number;
  height: number;
  split: Split;
  status: ImageStatus;
  addedAt: number;
  /**
   * Where its labels stand (gallery pages): `done` (marked done, nothing pending), `partial` (some boxes decided but
   * not marked done, or done with boxes pending again), `pending` (teacher boxes wait, none decided), `new`.
   */
  progress?: 'done' | 'partial' | 'pending' | 'new';
  /** Its boxes that are not rejected, for thumbnail overlays (gallery pages asked `withBoxes`). */
  boxes?: ThumbBox[];
}

/** A box on a thumbnail: class id, pixels, and whether it is still pending. */
export interface ThumbBox {
  c: number;
  x: number;
  y: number;
  w: number;
  h: number;
  pending?: true;
}

/** A box in image pixels: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface AnnotationRecord extends Box {
  id: number;
  imageId: number;
  classId: number;
  source: AnnotationSource;
  score: number | null;
  review: ReviewState;
  createdAt: number;
  updatedAt: number;
}

export interface TeacherRecord {
  id: number;
  name: string;
  path: string;
  family: string | null;
  config: TeacherConfig;
  createdAt: number;
}

export const RUN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  id: number;
  name: string;
  status: RunStatus;
  /** What the run trains and how (typed, with every default filled in). */
  settings: RunSettings;
  artifacts: Record<string, string>;
  summary: Record<string, unknown> | null;
  /** The user's note on the run. */
  note: string;
  createdAt: number;
  updatedAt: number;
}

export interface EpochMetrics {
  epoch: number;
  metrics: Record<string, number>;
}

export interface PredictionRecord extends Box {
  id: number;
  runId: number;
  imageId: number;
  classId: number;
  score: number;
}

export interface ProjectSettings {
  name: string;
  createdAt: number;
  /** Free-form settings owned by later features (sample metadata, defaults of the train form...). */
  [key: string]: unknown;
}

export interface ProjectCounts {
  images: number;
  bySplit: Record<Split, number>;
  byStatus: Record<ImageStatus, number>;
  annotations: { pending: number; accepted: number; rejected: number };
  perClass: { classId: number; name: string; accepted: number; pending: number; rejected: number; images: number }[];
  /** Accepted boxes per split and class: `starling info` asks for them (`project.current` perSplitClass). */
  perSplitClass?: { split: Split; classId: number; boxes: number }[];
}
