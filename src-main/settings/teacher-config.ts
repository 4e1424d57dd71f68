/**
 * A registered teacher's config: what probing its ONNX file found (family, input, classes, output shapes) and
 * the user's settings for it (class map, fusion weight, flip TTA). One schema, stored with the teacher and read
 * back typed. Pure zod.
 */
import { z } from 'zod';

/** Teacher class name -> project class name, or null to ignore it. Unlisted classes map by equal name. */
export const classMapSchema = z.record(z.string(), z.string().min(1).nullable());

export const teacherSettingsSchema = z.object({
  classMap: classMapSchema.default({}),
  /** Weight in weighted boxes fusion. */
  weight: z.number().positive().max(100).default(1),
  /** Also run on the horizontally flipped image and fuse both views. */
  tta: z.boolean().default(false),
});
export type TeacherSettings = z.output<typeof teacherSettingsSchema>;

export const teacherProbeSchema = z.object({
  file: z.string(),
  /** Output layout (inference/layouts/). */
  family: z.string(),
  /** Whether the family was detected (true) or given by the user (false). */
  detected: z.boolean(),
  inputName: z.string(),
  imgsz: z.number().int().positive(),
  dynamicBatch: z.boolean(),
  names: z.array(z.string()),
  outputs: z.record(z.string(), z.array(z.number())),
  metadata: z.record(z.string(), z.string()),
});
export type TeacherProbe = z.output<typeof teacherProbeSchema>;

export const teacherConfigSchema = teacherProbeSchema.extend(teacherSettingsSchema.shape);
export type TeacherConfig = z.output<typeof teacherConfigSchema>;
