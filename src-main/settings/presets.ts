/**
 * The presets shipped in resources/configs/: the seeds' models as experiment files. Listed for the Train view's
 * preset picker and `starling presets`; each is read and checked as any experiment file is, and one that does not
 * parse is listed with its error rather than hidden.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment } from './experiment-file.js';

/** resources/configs beside src-main/ (sources) or out/ (the built app): two levels up from this module. */
export const PRESETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../resources/configs');

export interface PresetInfo {
  /** The file's name without .yaml: what the run and a sweep's cell are named. */
  name: string;
  file: string;
  /** The file's leading comment, as one paragraph. */
  description: string;
  /** The file as written (the Train view parses it as a loaded experiment file). */
  text: string;
  /** Set when the file does not parse: the message, naming the key. */
  error?: string;
}

export function listPresets(dir = PRESETS_DIR): PresetInfo[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const text = fs.readFileSync(file, 'utf8');
      const description = text
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .map((l) => l.replace(/^#\s?/, '').trim())
        .join(' ')
        .trim();
      let error: string | undefined;
      try {
        parseExperiment(text, f);
      } catch (e) {
        error = (e as Error).message;
      }
      return { name: f.replace(/\.ya?ml$/, ''), file, description, text, ...(error ? { error } : {}) };
    });
}
