/**
 * `--config <file>` for `starling train` and `starling sweep`: an experiment file read from disk (its schema and
 * merging are settings/experiment-file.ts). Paths inside a file (the starting weights) are relative to the
 * file's folder, so a folder of configs works from anywhere; paths given as options are relative to where the
 * user is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseExperiment, type ExperimentInput } from '../settings/experiment-file.js';

/** A weights path as the API needs it (absolute); `run:N` names a run, not a file. */
export function userPath(from: string, base: string): string {
  return /^run:/.test(from) ? from : path.resolve(base, from);
}

export function readExperimentFile(file: string): ExperimentInput {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new Error(`${file}: ${why}`);
  }
  const exp = parseExperiment(text, file);
  if (exp.weights?.from)
    exp.weights = { ...exp.weights, from: userPath(exp.weights.from, path.dirname(path.resolve(file))) };
  return exp;
}
