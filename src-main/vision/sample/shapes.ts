/**
 * The sample dataset's object classes: each shape is a polygon (or a circle) given by its centre, radius
 * and rotation, with its exact axis-aligned bounding box after rotation.
 */

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'hexagon', 'cross'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export interface ShapeSpec {
  cls: ShapeClass;
  cx: number;
  cy: number;
  /** Circumradius in pixels. */
  r: number;
  /** Degrees. */
  rotation: number;
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

/** Unit-radius vertices of each polygonal shape, before rotation. */
function unitVertices(cls: Exclude<ShapeClass, 'circle'>): [number, number][] {
  const ring = (n: number, radius = 1, phase = -Math.PI / 2): [number, number][] =>
    Array.from({ length: n }, (_, i) => {
      const a = phase + (2 * Math.PI * i) / n;
      return [radius * Math.cos(a), radius * Math.sin(a)];
    });
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
      const a = 0.32; // half arm width
      return [
        [-a, -1], [a, -1], [a, -a], [1, -a], [1, a], [a, a],
        [a, 1], [-a, 1], [-a, a], [-1, a], [-1, -a], [-a, -a],
      ];
    }
  }
}

/** Vertices in image pixels (rotation about the centre). */
export function shapeVertices(s: ShapeSpec): [number, number][] {
  if (s.cls === 'circle') return [];
  const t = (s.rotation * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  return unitVertices(s.cls).map(([x, y]) => [s.cx + s.r * (x * cos - y * sin), s.cy + s.r * (x * sin + y * cos)]);
}

/** Tight axis-aligned box of the filled shape (a stroke, drawn centred on the outline, adds half its width). */
export function shapeExtent(s: ShapeSpec): Extent {
  const pad = s.stroke ? (s.strokeWidth ?? 0) / 2 : 0;
  if (s.cls === 'circle') {
    const r = s.r + pad;
    return { x: s.cx - r, y: s.cy - r, w: 2 * r, h: 2 * r };
  }
  const v = shapeVertices(s);
  const xs = v.map((p) => p[0]);
  const ys = v.map((p) => p[1]);
  // Miter joins can stick out further than half the stroke; strokes are kept thin and joins round.
  const x0 = Math.min(...xs) - pad;
  const y0 = Math.min(...ys) - pad;
  return { x: x0, y: y0, w: Math.max(...xs) + pad - x0, h: Math.max(...ys) + pad - y0 };
}

const f = (n: number) => n.toFixed(2);

export function shapeSvg(s: ShapeSpec): string {
  const stroke = s.stroke ? ` stroke="${s.stroke}" stroke-width="${f(s.strokeWidth ?? 1)}" stroke-linejoin="round"` : '';
  if (s.cls === 'circle') return `<circle cx="${f(s.cx)}" cy="${f(s.cy)}" r="${f(s.r)}" fill="${s.fill}"${stroke}/>`;
  const points = shapeVertices(s)
    .map(([x, y]) => `${f(x)},${f(y)}`)
    .join(' ');
  return `<polygon points="${points}" fill="${s.fill}"${stroke}/>`;
}
