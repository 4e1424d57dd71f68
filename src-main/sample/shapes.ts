/**
 * The sample dataset's object classes. Each shape is given by its centre, circumradius and rotation, and
 * knows its exact outline, so its box (whole, or clipped to the image) and its coverage by other shapes are
 * computed from the geometry rather than from the unrotated square.
 */

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export interface ShapeSpec {
  cls: ShapeClass;
  cx: number;
  cy: number;
  /** Circumradius in pixels. */
  r: number;
  /** Degrees, clockwise in image coordinates. */
  rotation: number;
  /** Any SVG paint: a colour or `url(#id)`. */
  fill: string;
  stroke?: string;
  strokeWidth?: number;
}

export interface Extent {
  x: number;
  y: number;
  w: number;
  h: number;
}

type Point = [number, number];

/** Enough sides that the polygon's clipped box is within 0.03% of the radius of the true circle's. */
const CIRCLE_SIDES = 128;

function ring(n: number, radius = 1, phase = -Math.PI / 2): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const a = phase + (2 * Math.PI * i) / n;
    return [radius * Math.cos(a), radius * Math.sin(a)];
  });
}

/** Unit-radius outline of each polygonal shape, before rotation. */
function unitOutline(cls: Exclude<ShapeClass, 'circle'>): Point[] {
  switch (cls) {
    case 'square':
      return ring(4, 1, Math.PI / 4);
    case 'triangle':
      return ring(3);
    case 'hexagon':
      return ring(6, 1, 0);
    case 'star': {
      const outer = ring(5);
      const inner = ring(5, 0.42, -Math.PI / 2 + Math.PI / 5);
      return outer.flatMap((p, i) => [p, inner[i]!]);
    }
    case 'cross': {
      // Arm half-width 0.3 of the arm length; corners at radius 1.
      const a = 0.3 / Math.hypot(1, 0.3);
      const b = 1 / Math.hypot(1, 0.3);
      // prettier-ignore
      return [
        [-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a],
        [a, b], [-a, b], [-a, a], [-b, a], [-b, -a], [-a, -a],
      ];
    }
  }
}

/**
 * The filled outline in image pixels (rotation about the centre). A circle comes back as a fine polygon
 * whose vertices include the four axis extremes, so its box is exact.
 */
export function shapeOutline(s: ShapeSpec): Point[] {
  if (s.cls === 'circle') return ring(CIRCLE_SIDES, s.r, 0).map(([x, y]) => [s.cx + x, s.cy + y]);
  const t = (s.rotation * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  return unitOutline(s.cls).map(([x, y]) => [s.cx + s.r * (x * cos - y * sin), s.cy + s.r * (x * sin + y * cos)]);
}

/** Half the stroke width: a stroke is drawn centred on the outline with round joins, so it pads evenly. */
const strokePad = (s: ShapeSpec) => (s.stroke ? (s.strokeWidth ?? 1) / 2 : 0);

function boundsOf(points: Point[], pad: number): Extent {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x: x0 - pad, y: y0 - pad, w: x1 - x0 + 2 * pad, h: y1 - y0 + 2 * pad };
}

/** Tight axis-aligned box of the drawn shape, stroke included. */
export function shapeExtent(s: ShapeSpec): Extent {
  if (s.cls === 'circle') {
    const r = s.r + strokePad(s);
    return { x: s.cx - r, y: s.cy - r, w: 2 * r, h: 2 * r };
  }
  return boundsOf(shapeOutline(s), strokePad(s));
}

/** Sutherland-Hodgman against one half-plane `inside`, with `cut` giving the crossing point of an edge. */
function clipAgainst(poly: Point[], inside: (p: Point) => boolean, cut: (a: Point, b: Point) => Point): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < poly.length; i++) {
    const cur = poly[i]!;
    const prev = poly[(i + poly.length - 1) % poly.length]!;
    if (inside(cur)) {
      if (!inside(prev)) out.push(cut(prev, cur));
      out.push(cur);
    } else if (inside(prev)) out.push(cut(prev, cur));
  }
  return out;
}

function clipPolygon(poly: Point[], r: Extent): Point[] {
  const atX = (x: number) => (a: Point, b: Point): Point => [x, a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0])];
  const atY = (y: number) => (a: Point, b: Point): Point => [a[0] + ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]), y];
  let p = clipAgainst(poly, (q) => q[0] >= r.x, atX(r.x));
  p = clipAgainst(p, (q) => q[0] <= r.x + r.w, atX(r.x + r.w));
  p = clipAgainst(p, (q) => q[1] >= r.y, atY(r.y));
  return clipAgainst(p, (q) => q[1] <= r.y + r.h, atY(r.y + r.h));
}

/**
 * Tight box of the part of the drawn shape inside `rect` (the image), or null when nothing is inside. Tighter
 * than clipping the whole box: a diamond cut by the left border is shorter there than its full height.
 */
export function clippedExtent(s: ShapeSpec, rect: Extent): Extent | null {
  const pad = strokePad(s);
  // The stroke reaches `pad` beyond the outline, so clip the outline against the rect grown by `pad`.
  const grown = { x: rect.x - pad, y: rect.y - pad, w: rect.w + 2 * pad, h: rect.h + 2 * pad };
  const part = clipPolygon(shapeOutline(s), grown);
  if (part.length < 3) return null;
  const b = boundsOf(part, pad);
  const x0 = Math.max(b.x, rect.x);
  const y0 = Math.max(b.y, rect.y);
  const x1 = Math.min(b.x + b.w, rect.x + rect.w);
  const y1 = Math.min(b.y + b.h, rect.y + rect.h);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
}

/** Whether (x, y) lies in the filled shape (even-odd rule, which matches SVG's default for these outlines). */
export function shapeContains(s: ShapeSpec, x: number, y: number, outline = shapeOutline(s)): boolean {
  if (s.cls === 'circle') return (x - s.cx) ** 2 + (y - s.cy) ** 2 <= s.r * s.r;
  let inside = false;
  for (let i = 0, j = outline.length - 1; i < outline.length; j = i++) {
    const [xi, yi] = outline[i]!;
    const [xj, yj] = outline[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const f = (n: number) => n.toFixed(2);

export function shapeSvg(s: ShapeSpec): string {
  const stroke = s.stroke
    ? ` stroke="${s.stroke}" stroke-width="${f(s.strokeWidth ?? 1)}" stroke-linejoin="round"`
    : '';
  if (s.cls === 'circle') return `<circle cx="${f(s.cx)}" cy="${f(s.cy)}" r="${f(s.r)}" fill="${s.fill}"${stroke}/>`;
  const points = shapeOutline(s)
    .map(([x, y]) => `${f(x)},${f(y)}`)
    .join(' ');
  return `<polygon points="${points}" fill="${s.fill}"${stroke}/>`;
}
