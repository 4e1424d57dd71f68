import type { Split } from '../store/types.js';
import { parseCoco, writeCoco } from './coco.js';
import type { Dataset, ParseResult } from './dataset.js';
import type { ImagePlacement } from './files.js';
import { parseVoc, writeVoc } from './voc.js';
import { parseYolo, writeYolo } from './yolo.js';

export type DatasetFormat = 'coco' | 'yolo' | 'voc';

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
}

export function parseDataset(format: DatasetFormat, input: string, opts: ParseOptions = {}): Promise<ParseResult> {
  switch (format) {
    case 'coco':
      return parseCoco(input, opts);
    case 'yolo':
      return parseYolo(input);
    case 'voc':
      return parseVoc(input, opts);
  }
}

export function writeDataset(
  format: DatasetFormat,
  ds: Dataset,
  outDir: string,
  opts: WriteOptions,
): Promise<string[]> {
  switch (format) {
    case 'coco':
      return writeCoco(ds, outDir, { imagesRoot: opts.imagesRoot });
    case 'yolo':
      return writeYolo(ds, outDir, { images: opts.images });
    case 'voc':
      return writeVoc(ds, outDir, { images: opts.images });
  }
}
