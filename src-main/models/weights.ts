/**
 * Loads weights a user has into a model, by state-dict name, and reports what matched. Sources:
 * - safetensors files (a plain state dict, e.g. exported from PyTorch, or a Starling checkpoint, whose
 *   `ema/` weights are preferred over `model/`);
 * - PyTorch .pt/.pth/.pth.tar checkpoints (torch.save zip format): a state dict, or a checkpoint holding one
 *   under state_dict / model / ema (DataParallel `module.` prefixes removed); read by a restricted unpickler
 *   that refuses anything but tensors, dicts, lists, numbers and strings.
 * Nothing is changed when nothing matches; shape mismatches are reported and skipped.
 */
import path from 'node:path';
import { loadCheckpoint } from '../engine/checkpoint.js';
import { readTorchCheckpoint, stateDictOf } from './torch-checkpoint.js';
import type { Module } from '../engine/nn.js';

export interface WeightReport {
  file: string;
  matched: string[];
  missing: string[];
  unexpected: string[];
  shapeMismatch: { name: string; file: number[]; model: number[] }[];
}

export function loadWeights(model: Module, file: string): WeightReport {
  const ext = path.extname(file).toLowerCase();
  const source = new Map<string, { shape: number[]; data: Float32Array }>();
  if (ext === '.pt' || ext === '.pth' || ext === '.tar' || ext === '.ckpt') {
    for (const [k, t] of stateDictOf(readTorchCheckpoint(file), file)) source.set(k, t);
    return applyWeights(model, file, source);
  }
  const ck = loadCheckpoint(file);
  const prefix = [...ck.tensors.keys()].some((k) => k.startsWith('ema/'))
    ? 'ema/'
    : [...ck.tensors.keys()].some((k) => k.startsWith('model/'))
      ? 'model/'
      : '';
  for (const [k, t] of ck.tensors) {
    if (prefix && !k.startsWith(prefix)) continue;
    source.set(k.slice(prefix.length), t);
  }
  return applyWeights(model, file, source);
}

function applyWeights(
  model: Module,
  file: string,
  source: Map<string, { shape: number[]; data: Float32Array }>,
): WeightReport {
  const report: WeightReport = { file, matched: [], missing: [], unexpected: [], shapeMismatch: [] };
  const names = new Set<string>();
  for (const [name, p] of model.namedTensors()) {
    names.add(name);
    const t = source.get(name);
    if (!t) report.missing.push(name);
    else if (t.shape.join() !== p.shape.join()) report.shapeMismatch.push({ name, file: t.shape, model: [...p.shape] });
    else report.matched.push(name);
  }
  for (const k of source.keys()) if (!names.has(k) && !k.endsWith('num_batches_tracked')) report.unexpected.push(k);
  if (!report.matched.length) {
    throw new Error(
      `${file}: no tensor matches the model (${report.unexpected.length} unexpected, e.g. ${report.unexpected.slice(0, 3).join(', ')})`,
    );
  }
  const byName = new Map(model.namedTensors());
  for (const name of report.matched) byName.get(name)!.data = Float32Array.from(source.get(name)!.data);
  return report;
}

export function formatWeightReport(r: WeightReport): string {
  const lines = [
    `${r.file}: ${r.matched.length} matched, ${r.missing.length} missing, ${r.unexpected.length} unexpected, ${r.shapeMismatch.length} shape mismatches`,
  ];
  const show = (label: string, xs: string[]) =>
    xs.length && lines.push(`  ${label}: ${xs.slice(0, 8).join(', ')}${xs.length > 8 ? ` (+${xs.length - 8})` : ''}`);
  show('missing', r.missing);
  show('unexpected', r.unexpected);
  show(
    'shape mismatch',
    r.shapeMismatch.map((m) => `${m.name} [${m.file.join(',')}] vs [${m.model.join(',')}]`),
  );
  return lines.join('\n');
}
