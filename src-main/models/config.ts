import { z } from 'zod';
import { describeIssues } from '../util/issues.js';

/**
 * A detector in one small config, Ultralytics-like:
 *   { model: yolo11, scale: n, backbone: starnet_s050, head: yolo, nc: 6 }
 * `model` names a registered architecture, `backbone` a registered backbone (`yolo11` is the YOLO11 CSP
 * backbone), `head` a registered head; the zoo checks the names when it builds (pure zod here: the renderer
 * imports this file).
 */
export const detectorConfigSchema = z
  .object({
    model: z.string().min(1).default('yolo11'),
    scale: z.enum(['n', 's', 'm', 'l', 'x']).default('n'),
    backbone: z.string().min(1).default('yolo11'),
    head: z.string().min(1).default('yolo'),
    nc: z.number().int().positive().default(80),
    /**
     * The backbone's channel multiplier, when it is not the scale's: an ImageNet checkpoint holds its backbone at
     * width 1, which a plain backbone at scale n (width 0.25) could not take.
     */
    backboneWidth: z.number().positive().max(4).optional(),
  })
  .strict();

export type DetectorConfig = z.output<typeof detectorConfigSchema>;

export function parseDetectorConfig(input: unknown, where = 'detector config'): DetectorConfig {
  const r = detectorConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new Error(`${where}: ${describeIssues(r.error)}`);
  return r.data;
}
