/**
 * Dataset formats, registered by name: each format file (coco.ts, yolo.ts, voc.ts) parses into and writes from
 * the neutral `Dataset` and registers itself; formats/index.ts imports them (one line each). The API, the CLI and
 * the UI list the registered formats.
 */
import type { Split } from '../store/types.js';
import type { Dataset, ParseResult } from './dataset.js';
import type { ImagePlacement } from './files.js';

export interface ParseOptions {
  /** COCO: the folder file_name paths are relative to. */
  imagesRoot?: string;
  /** Split for inputs that do not state one. */
  split?: Split;
}

export interface WriteOptions {
  /** YOLO/VOC: how images are placed beside the labels. */
  images: ImagePlacement;
  /** COCO: file_name paths are written relative to this folder (the project root). */
  imagesRoot: string;
  /**
   * Images that are not labeled (yet): left out (`skip`), or written apart from the splits (`pool`: YOLO's
   * images/unlabeled/, which data.yaml names under a key Ultralytics does not read).
   */
  unlabeled?: 'skip' | 'pool';
}

export interface DatasetFormatEntry {
  name: string;
  description: string;
  parse(input: string, opts: ParseOptions): Promise<ParseResult>;
  /** Whether it can write unlabeled images apart from the splits (`unlabeled: 'pool'`). */
  pools?: boolean;
  write(ds: Dataset, outDir: string, opts: WriteOptions): Promise<string[]>;
}

const registry = new Map<string, DatasetFormatEntry>();

export function registerFormat(entry: DatasetFormatEntry): void {
  if (registry.has(entry.name)) throw new Error(`dataset format ${entry.name} is registered twice`);
  registry.set(entry.name, entry);
}

export function formatEntry(name: string): DatasetFormatEntry {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown dataset format "${name}"; known: ${[...registry.keys()].join(', ')}`);
  return e;
}

export const formatNames = (): string[] => [...registry.keys()];
