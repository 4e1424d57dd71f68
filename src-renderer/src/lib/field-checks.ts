/** What is wrong with a form field's value, in the words shown beside it ('' or false when nothing is). */

/** A number field bound to a value in [0, 1] (an emptied number field binds null). */
export const isUnit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/** An image size: a whole number of at least `min` that tiles by the model's largest stride (32). */
export function imgszError(v: unknown, min: number): string {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    return `Image size must be a whole number of at least ${min}`;
  if (v % 32) return `Image size must be a multiple of 32 (the model's largest stride): ${Math.round(v / 32) * 32}?`;
  return '';
}
