/** Display formats shared by the views. */
import { formatDuration } from '../../../src-main/util/duration';

/** A remaining time as a clock: 0:42, 12:05, 1:03:20 (the CLI's progress bar uses the same formatter). */
export const formatEta = (seconds: number): string => formatDuration(Math.max(0, seconds));

/**
 * A file name cut in the middle, so names that share a prefix (train_000123.jpg, train_000124.jpg) still differ
 * where they differ: the start, an ellipsis, and the end with the extension.
 */
export function middleEllipsis(name: string, max: number): string {
  if (name.length <= max) return name;
  const tail = Math.ceil((max - 1) / 2);
  return `${name.slice(0, max - 1 - tail)}…${name.slice(-tail)}`;
}

/** A count with its noun: 1 image, 3 images, 2 boxes. */
export const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : one.endsWith('x') ? 'es' : 's'}`;
