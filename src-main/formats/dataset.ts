import type { Split } from '../store/types.js';

/**
 * The neutral form every dataset format parses into and writes from. Import = parse -> ingest;
 * export = project -> Dataset -> write. Formats never touch the store.
 */

/** A box, top-left corner and size. In pixels, or in 0..1 of the image size when the image says `normalized`. */
export interface DatasetBox {
  classIndex: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DatasetImage {
  /** Absolute path of the image file. */
  file: string;
  split: Split;
  /** Size as the label file states it (COCO, VOC); checked against the real image at ingest. */
  width?: number;
  height?: number;
  /** True when `boxes` are in 0..1 units (YOLO); ingest converts them with the real image size. */
  normalized?: boolean;
  /** False for images listed without any label file (YOLO images with no .txt): they import unlabeled. */
  labeled: boolean;
  boxes: DatasetBox[];
  /** Boxes the label file has for this image that could not be read (reported as errors): its labels are incomplete. */
  droppedBoxes?: number;
}

export interface Dataset {
  /** Class names, index = DatasetBox.classIndex. */
  classes: string[];
  images: DatasetImage[];
}

/**
 * One problem with one input file. `item` narrows it (an annotation id, a line number, an object index).
 * `fatal` problems spoil the whole file (bad JSON); others spoil one image or one box, and can be skipped.
 */
export interface ItemError {
  file: string;
  item?: string;
  problem: string;
  /** What skipping would drop: the whole input, one image, or one box. */
  scope: 'file' | 'image' | 'box';
}

export interface ParseResult {
  dataset: Dataset;
  errors: ItemError[];
}

export function formatItemError(e: ItemError): string {
  return `${e.file}${e.item ? ` [${e.item}]` : ''}: ${e.problem}`;
}
