/** Every dataset format (one import line each), and parsing/writing by format name. */
import './coco.js';
import './yolo.js';
import './voc.js';
import type { Dataset, ParseResult } from './dataset.js';
import { formatEntry, type ParseOptions, type WriteOptions } from './registry.js';

export { formatEntry, formatNames, type ParseOptions, type WriteOptions } from './registry.js';

export function parseDataset(format: string, input: string, opts: ParseOptions = {}): Promise<ParseResult> {
  return formatEntry(format).parse(input, opts);
}

export function writeDataset(format: string, ds: Dataset, outDir: string, opts: WriteOptions): Promise<string[]> {
  return formatEntry(format).write(ds, outDir, opts);
}
