import fs from 'node:fs';
import YAML from 'yaml';
import { architectureEntry, architectureNames } from '../models/zoo.js';

/**
 * A config as the CLI takes it: a YAML/JSON file, or a short name `<architecture><scale>[-<backbone>][-<head>]`
 * (`yolo11n`, `yolo11s-starnet_s050`, `yolo11n-starnet_s1-none`, `yolov8n-p2`); the zoo checks the names. A part
 * left out is the architecture's own (`yolov5s` is YOLOv5s: its CSP backbone and its anchor head), else the
 * config's default.
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
  // `yolov8n-p2` is Ultralytics' name for the P2-P5 variant: the architecture `yolov8-p2`, its own parts.
  const p2 = m[3] === 'p2' && architectureNames().includes(`${m[1]}-p2`);
  const model = p2 ? `${m[1]}-p2` : m[1]!;
  const [bbPart, headPart] = p2 ? [m[4], undefined] : [m[3], m[4]];
  const own = architectureNames().includes(model) ? architectureEntry(model).own : undefined;
  const backbone = bbPart ?? own?.backbone;
  const head = headPart ?? own?.head;
  return { model, scale: m[2], ...(backbone ? { backbone } : {}), ...(head ? { head } : {}) };
}
