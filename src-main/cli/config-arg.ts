import fs from 'node:fs';
import YAML from 'yaml';

/**
 * A config as the CLI takes it: a YAML/JSON file, or a short name `<architecture><scale>[-<backbone>][-<head>]`
 * (`yolo11n`, `yolo11s-starnet_s050`, `yolo11n-starnet_s1-none`); the zoo checks the names.
 */
export async function readConfigArg(arg: string): Promise<Record<string, unknown>> {
  if (fs.existsSync(arg)) {
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
  const m = /^([a-z][a-z0-9]*?)([nsmlx])(?:-([a-z0-9_]+))?(?:-([a-z0-9_]+))?$/.exec(arg);
  if (!m) throw new Error(`"${arg}" is neither a config file nor a name like yolo11n, yolo11s-starnet_s050`);
  return { model: m[1], scale: m[2], ...(m[3] ? { backbone: m[3] } : {}), ...(m[4] ? { head: m[4] } : {}) };
}
