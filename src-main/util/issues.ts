import type { z } from 'zod';

/**
 * Zod's issues in one line, each with the key it is about: `data.imgsz: Invalid number: must be ...`; an unknown
 * key is named by its own path (`optimizer.lr: unknown key`), not only its parent's.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => `${[...i.path, k].join('.')}: unknown key`)
        : [i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message],
    )
    .join('; ');
}
