import type { z } from 'zod';

/** Zod's issues in one line, each with the key it is about: `data.imgsz: Invalid number: must be ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
