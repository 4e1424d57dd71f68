/** Colour helpers for the sample dataset: HSL colours as SVG paints, and a contrast measure on RGB. */

export interface Hsl {
  /** Degrees. */
  h: number;
  /** Percent. */
  s: number;
  /** Percent. */
  l: number;
}

export type Rgb = [number, number, number];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** SVG colour text. Channels are rounded so the SVG (and so the rendered image) is the same on every platform. */
export function hslText({ h, s, l }: Hsl): string {
  return `hsl(${(((h % 360) + 360) % 360).toFixed(0)},${clamp(s, 0, 100).toFixed(0)}%,${clamp(l, 0, 100).toFixed(0)}%)`;
}

/** The 0..255 RGB that `hslText` renders as (CSS conversion, on the same rounded values). */
export function hslToRgb(c: Hsl): Rgb {
  const h = Math.round(((c.h % 360) + 360) % 360);
  const s = Math.round(clamp(c.s, 0, 100)) / 100;
  const l = Math.round(clamp(c.l, 0, 100)) / 100;
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number) => 255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1)));
  return [channel(0), channel(8), channel(4)];
}

/** Rec. 601 luma, 0..255: what makes an edge visible in a grey image. */
export const luma = ([r, g, b]: Rgb) => 0.299 * r + 0.587 * g + 0.114 * b;

/**
 * How much a colour stands out from another, mostly by luma: chroma survives JPEG's 4:2:0 subsampling and
 * blur worse, so a pure hue difference counts for less.
 */
export function contrast(a: Rgb, b: Rgb): number {
  const dl = Math.abs(luma(a) - luma(b));
  const drgb = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  return dl + 0.3 * drgb;
}
