import { STARLING_VERSION } from '../version.js';
import type { DetectorConfig } from '../models/config.js';

/**
 * Model metadata written into exported ONNX files. Ultralytics' keys and value formats are kept (names as a
 * Python dict literal, imgsz as a list) so tools that read Ultralytics exports read Starling's unchanged; the
 * Starling config and output style are added.
 */
export interface ExportMetadata {
  names: string[];
  imgsz: number;
  stride: number;
  config: DetectorConfig;
  /** The head's export style. */
  style: string;
  batch?: number;
}

const pyString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function metadataProps(m: ExportMetadata): Record<string, string> {
  return {
    description: `Starling ${m.config.model}${m.config.scale} ${m.config.backbone} ${m.config.head} detector`,
    author: 'Starling',
    date: new Date().toISOString(),
    version: STARLING_VERSION,
    task: 'detect',
    stride: String(m.stride),
    batch: String(m.batch ?? 1),
    imgsz: `[${m.imgsz}, ${m.imgsz}]`,
    names: `{${m.names.map((n, i) => `${i}: ${pyString(n)}`).join(', ')}}`,
    starling_config: JSON.stringify(m.config),
    starling_output: m.style,
  };
}

/** Reads names back from an Ultralytics-style `names` property ("{0: 'a', 1: 'b'}"). */
export function parseNames(prop: string): string[] {
  const out: string[] = [];
  const re = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  for (let m = re.exec(prop); m; m = re.exec(prop)) out[Number(m[1])] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
  return out;
}
