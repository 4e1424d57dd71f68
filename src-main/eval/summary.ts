/**
 * COCOeval's 12 summary numbers by name. `cocoEvaluate` returns them in pycocotools' order (`stats`); everything
 * Starling shows or compares reads them from here. A number is -1 where COCOeval has nothing to average (no
 * ground truth in that area range), as pycocotools prints it.
 */
export interface CocoSummary {
  /** AP at IoU 0.50:0.95, all areas, 100 detections: "mAP50-95". */
  mAP: number;
  mAP50: number;
  mAP75: number;
  mAPSmall: number;
  mAPMedium: number;
  mAPLarge: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARSmall: number;
  ARMedium: number;
  ARLarge: number;
}

const ORDER: (keyof CocoSummary)[] = [
  'mAP',
  'mAP50',
  'mAP75',
  'mAPSmall',
  'mAPMedium',
  'mAPLarge',
  'AR1',
  'AR10',
  'AR100',
  'ARSmall',
  'ARMedium',
  'ARLarge',
];

/** Names pycocotools' stats array. */
export function cocoSummary(stats: readonly number[]): CocoSummary {
  if (stats.length !== ORDER.length) throw new Error(`COCO stats have ${stats.length} numbers, expected 12`);
  return Object.fromEntries(ORDER.map((k, i) => [k, stats[i]!])) as unknown as CocoSummary;
}

/** Back to pycocotools' order (its printed summary, `starling eval --json`). */
export const cocoStats = (s: CocoSummary): number[] => ORDER.map((k) => s[k]);

/** 0 where COCOeval says -1 (nothing to average): what a chart or a fitness should read. */
export const orZero = (x: number): number => Math.max(0, x);
