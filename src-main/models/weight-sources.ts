/**
 * The weight files Starling reads, as one flat map of named float32 tensors with what the file is:
 * - `starling`: a Starling checkpoint (safetensors with model/ and ema/ sections; EMA weights preferred, as
 *   validation and export use them);
 * - `safetensors`: a plain safetensors state dict (F32, F16, BF16, ...);
 * - `pytorch`: a torch.save zip holding a state dict, or one under state_dict / model / ema / ... (DataParallel
 *   `module.` prefixes removed);
 * - `ultralytics`: an Ultralytics checkpoint, whose `ema`/`model` is a whole pickled DetectionModel: its state
 *   dict is rebuilt from the module records (nothing of Ultralytics runs) and its model card kept.
 * Every read refuses what it cannot vouch for (unknown pickle globals, truncated archives, size lies) with the
 * file's name and the reason, before anything is loaded into a model.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadCheckpoint } from '../engine/checkpoint.js';
import { sha256Of } from '../util/files.js';
import {
  readTorchCheckpoint,
  stateDictOf,
  ultralyticsCard,
  ultralyticsModel,
  type UltralyticsCard,
} from './torch-checkpoint.js';

export interface WeightSource {
  file: string;
  format: 'starling' | 'safetensors' | 'pytorch' | 'ultralytics';
  /** Of the file's bytes: which file a run started from, exactly. */
  sha256: string;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  /** What an Ultralytics checkpoint says about its model. */
  card?: UltralyticsCard;
  /** The classes the file's head was trained on, when it says (an Ultralytics checkpoint's names). */
  classNames?: string[];
}

export const TORCH_EXTENSIONS = ['.pt', '.pth', '.tar', '.ckpt', '.bin'];

export function readWeightSource(file: string): WeightSource {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw new Error(`${file}: not a regular file`);
  const ext = path.extname(file).toLowerCase();
  const sha256 = sha256Of(file);
  if (TORCH_EXTENSIONS.includes(ext)) {
    const obj = readTorchCheckpoint(file);
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of stateDictOf(obj, file)) tensors.set(k, { shape: t.shape, data: t.data });
    if (ultralyticsModel(obj)) {
      const card = ultralyticsCard(obj, file);
      return {
        file,
        format: 'ultralytics',
        sha256,
        tensors,
        card,
        ...(card.names.length ? { classNames: card.names } : {}),
      };
    }
    return { file, format: 'pytorch', sha256, tensors };
  }
  if (ext !== '.safetensors')
    throw new Error(
      `${file}: unknown weights format "${ext || '(no extension)'}"; Starling reads .safetensors and PyTorch ` +
        `${TORCH_EXTENSIONS.join('/')} files`,
    );
  const ck = loadCheckpoint(file);
  const keys = [...ck.tensors.keys()];
  const section = keys.some((k) => k.startsWith('ema/'))
    ? 'ema/'
    : keys.some((k) => k.startsWith('model/'))
      ? 'model/'
      : '';
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of ck.tensors) {
    if (section && !k.startsWith(section)) continue;
    tensors.set(k.slice(section.length), t);
  }
  if (!tensors.size) throw new Error(`${file}: holds no tensors`);
  return {
    file,
    format: section || ck.metadata.format === 'starling-checkpoint' ? 'starling' : 'safetensors',
    sha256,
    tensors,
  };
}
