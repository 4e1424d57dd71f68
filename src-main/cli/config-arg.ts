import fs from 'node:fs';
import YAML from 'yaml';
import { architectureEntry, architectureNames } from '../models/zoo.js';

/**
 * A config as the CLI takes it: a YAML/JSON file, or a short name `<architecture><scale>[-<backbone>][-<head>]`
 * (`yolo11n`, `yolo11s-starnet_s050`, `yolo11n-starnet_s1-none`); the zoo checks the names. A part left out is
 * the architecture's own (`yolov5s` is YOLOv5s: its CSP backbone and its anchor head), else the config's default.
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
  const own = architectureNames().includes(m[1]!) ? architectureEntry(m[1]!).own : undefined;
  const backbone = m[3] ?? own?.backbone;
  const head = m[4] ?? own?.head;
  return { model: m[1], scale: m[2], ...(backbone ? { backbone } : {}), ...(head ? { head } : {}) };
}
