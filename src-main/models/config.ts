import { z } from 'zod';

/**
 * A detector in one small config, Ultralytics-like:
 *   { model: yolo11, scale: n, backbone: starnet_s050, head: yolo, nc: 6 }
 * `backbone: yolo11` is the YOLO11 CSP backbone; any registered backbone name works.
 */
export const detectorConfigSchema = z
  .object({
    model: z.literal('yolo11').default('yolo11'),
    scale: z.enum(['n', 's', 'm', 'l', 'x']).default('n'),
    backbone: z.string().min(1).default('yolo11'),
    head: z.enum(['yolo', 'centernet', 'none']).default('yolo'),
    nc: z.number().int().positive().default(80),
  })
  .strict();

export type DetectorConfig = z.output<typeof detectorConfigSchema>;

export function parseDetectorConfig(input: unknown, where = 'detector config'): DetectorConfig {
  const r = detectorConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new Error(`${where}: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`);
  return r.data;
}

/**
 * A config as the CLI takes it: a YAML/JSON file, or a short name `yolo11<scale>[-<backbone>][-<head>]`
 * (`yolo11n`, `yolo11s-starnet_s050`, `yolo11n-starnet_s1-none`).
 */
export async function readConfigArg(arg: string): Promise<Record<string, unknown>> {
  const fs = await import('node:fs');
  if (fs.existsSync(arg)) {
    const YAML = (await import('yaml')).default;
    let doc: unknown;
    try {
      doc = YAML.parse(fs.readFileSync(arg, 'utf8'));
    } catch (e) {
      throw new Error(`${arg}: not valid YAML/JSON (${(e as Error).message.split('\n')[0]})`);
    }
    if (!doc || typeof doc !== 'object')
      throw new Error(`${arg}: a config must be a mapping (model, scale, backbone, head, nc)`);
    return doc as Record<string, unknown>;
  }
  const m = /^yolo11([nsmlx])(?:-([a-z0-9_]+))?(?:-(yolo|centernet|none))?$/.exec(arg);
  if (!m) throw new Error(`"${arg}" is neither a config file nor a name like yolo11n, yolo11s-starnet_s050`);
  return { model: 'yolo11', scale: m[1], ...(m[2] ? { backbone: m[2] } : {}), ...(m[3] ? { head: m[3] } : {}) };
}
