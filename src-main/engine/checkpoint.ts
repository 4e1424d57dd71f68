import fs from 'node:fs';
import type { EMA, Optimizer, OptimizerState } from './optim.js';
import type { Module } from './nn.js';
import { faultPoint } from '../util/fault.js';
import { readElements, SAFETENSORS_DTYPES } from './dtypes.js';
import { writeFileAtomic } from '../util/files.js';

/**
 * Checkpoints in the safetensors layout (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw data. The file
 * opens in any safetensors reader. Starling stores:
 *   model/<name>          parameters and buffers (PyTorch state_dict names)
 *   ema/<name>            EMA weights, when training with EMA
 *   optim/<slot>/<name>   optimizer slots (momentum, exp_avg, exp_avg_sq)
 * and in `__metadata__` (strings): format, version, optimizer (JSON: kind, step, groups), ema (JSON: updates),
 * and `extra` (JSON: the trainer's epoch, iteration, RNG state...).
 * Writes are atomic: temp file, fsync, rename.
 */

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

const FORMAT = 'starling-checkpoint';
const VERSION = '1';
const MAX_HEADER = 100 * 1024 * 1024;

export function saveCheckpoint(file: string, ck: Checkpoint): void {
  const header: Record<string, unknown> = { __metadata__: ck.metadata };
  let offset = 0;
  const names = [...ck.tensors.keys()].sort();
  for (const name of names) {
    const t = ck.tensors.get(name)!;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data section
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));

  writeFileAtomic(file, (fd) => {
    fs.writeSync(fd, len);
    fs.writeSync(fd, headerBytes);
    names.forEach((name, i) => {
      const d = ck.tensors.get(name)!.data;
      fs.writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      if (i === names.length >> 1) faultPoint('checkpoint-write');
    });
  });
}

export function loadCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const bad = (why: string) => new Error(`${file}: not a valid checkpoint: ${why}`);
  if (buf.length < 8) throw bad('file is shorter than the 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (n > MAX_HEADER || 8 + n > buf.length)
    throw bad(`header length ${n} runs past the end of the file (${buf.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, StoredTensor>();
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const type = SAFETENSORS_DTYPES[String(info.dtype)];
    if (!type)
      throw bad(
        `tensor ${name} has dtype ${String(info.dtype)}; supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`,
      );
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw bad(`tensor ${name} has a bad shape`);
    const [b = NaN, e = NaN] = (info.data_offsets ?? []) as number[];
    const count = (info.shape as number[]).reduce((a, d) => a * d, 1);
    if (
      !Number.isInteger(b) ||
      !Number.isInteger(e) ||
      e - b !== count * type.bytes ||
      dataStart + e > buf.length ||
      b < 0
    ) {
      throw bad(
        `tensor ${name}: byte range [${b}, ${e}] does not fit shape [${(info.shape as number[]).join(', ')}] or the file (truncated?)`,
      );
    }
    // A copy as float32: the result must not alias the file buffer.
    const data = readElements(buf.subarray(dataStart + b, dataStart + e), type, count);
    tensors.set(name, { shape: info.shape as number[], data });
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  return { tensors, metadata };
}

export interface TrainingState {
  model: Module;
  optimizer?: Optimizer;
  ema?: EMA;
  extra?: Record<string, unknown>;
}

export function captureTraining(s: TrainingState): Checkpoint {
  const tensors = new Map<string, StoredTensor>();
  for (const [name, p] of s.model.namedTensors()) tensors.set(`model/${name}`, { shape: [...p.shape], data: p.data });
  const metadata: Record<string, string> = { format: FORMAT, version: VERSION, extra: JSON.stringify(s.extra ?? {}) };
  if (s.optimizer) {
    const st = s.optimizer.state();
    metadata.optimizer = JSON.stringify({ kind: st.kind, step: st.step, groups: st.groups });
    for (const [key, v] of Object.entries(st.slots)) tensors.set(`optim/${key}`, { shape: [v.length], data: v });
  }
  if (s.ema) {
    metadata.ema = JSON.stringify({ updates: s.ema.updates });
    const shapes = new Map([...s.model.namedTensors()].map(([n, p]) => [n, p.shape]));
    for (const [name, v] of s.ema.shadow) tensors.set(`ema/${name}`, { shape: [...shapes.get(name)!], data: v });
  }
  return { tensors, metadata };
}

/**
 * Restores model (and optimizer, EMA) from a checkpoint. Every model tensor must be present with the same
 * shape, and nothing unexpected may be left over: mismatches are listed in one error, nothing is changed.
 */
export function restoreTraining(ck: Checkpoint, s: TrainingState): Record<string, unknown> {
  if (ck.metadata.format !== FORMAT)
    throw new Error(`not a Starling training checkpoint (format ${ck.metadata.format ?? 'missing'})`);
  const problems: string[] = [];
  const want = new Map([...s.model.namedTensors()].map(([n, p]) => [`model/${n}`, p]));
  for (const [key, p] of want) {
    const t = ck.tensors.get(key);
    if (!t) problems.push(`missing ${key}`);
    else if (t.shape.join() !== p.shape.join())
      problems.push(`${key}: checkpoint [${t.shape.join(', ')}] vs model [${p.shape.join(', ')}]`);
  }
  for (const key of ck.tensors.keys())
    if (key.startsWith('model/') && !want.has(key)) problems.push(`unexpected ${key}`);
  if (problems.length)
    throw new Error(
      `checkpoint does not fit the model: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` and ${problems.length - 10} more` : ''}`,
    );

  if (s.optimizer) {
    if (!ck.metadata.optimizer) throw new Error('checkpoint has no optimizer state');
    const meta = JSON.parse(ck.metadata.optimizer) as Omit<OptimizerState, 'slots'>;
    const slots: Record<string, Float32Array> = {};
    for (const [key, t] of ck.tensors) if (key.startsWith('optim/')) slots[key.slice(6)] = t.data;
    s.optimizer.load({ ...meta, slots });
  }
  if (s.ema) {
    if (!ck.metadata.ema) throw new Error('checkpoint has no EMA state');
    s.ema.updates = (JSON.parse(ck.metadata.ema) as { updates: number }).updates;
    for (const name of s.ema.shadow.keys()) {
      const t = ck.tensors.get(`ema/${name}`);
      if (!t) throw new Error(`checkpoint has no ema/${name}`);
      s.ema.shadow.set(name, Float32Array.from(t.data));
    }
  }
  for (const [key, p] of want) p.data = Float32Array.from(ck.tensors.get(key)!.data);
  return JSON.parse(ck.metadata.extra ?? '{}') as Record<string, unknown>;
}
