import type { DatasetBox } from '../formats/dataset.js';
import type { Rng } from '../util/random.js';
import { drawObjectSize, type SizeMix } from './size-mix.js';
import { background, clutter, overlayClutter } from './backgrounds.js';
import { contrast, hslText, hslToRgb, type Hsl, type Rgb } from './colors.js';
import {
  SHAPE_CLASSES,
  clippedExtent,
  shapeContains,
  shapeExtent,
  shapeOutline,
  shapeSvg,
  type Extent,
  type ShapeSpec,
} from './shapes.js';

/**
 * Lays out one sample image from its PRNG: size, background, clutter, the objects and their labels, how each
 * object will be painted, and the degradations. Pure geometry: labels and the PRNG stream never depend on how a
 * platform rasterizes; only the final colour choice (`foregroundSvg`) looks at the rendered background.
 */

/**
 * A label is kept when at least this share of its shape is visible: inside the image and not under later
 * shapes. Coverage is measured on points sampled inside the shape's own outline against the later shapes'
 * outlines, not on box overlap, which would count the empty corners of a triangle's box as hidden.
 */
const MIN_VISIBLE = 0.4;
/** Clipped boxes thinner than this carry no usable signal. */
const MIN_BOX_SIDE = 4;
/**
 * Positions tried per object before accepting one that loses a label (its own, cut by the border, or an
 * earlier one, hidden), by size mix: about 2.5% of objects stay unlabeled fragments, as in real annotations
 * (COCO's mix has more large objects, which hide more, so it needs more tries for the same share).
 */
const PLACEMENT_TRIES: Record<SizeMix, number> = { 'log-uniform': 2, coco: 3 };
/** Grid points per side sampled over a shape's box to estimate visibility. */
const COVERAGE_GRID = 14;
/**
 * Share of objects given a colour that stands out from the background under them. The rest may be hard to
 * see, but not invisible: a label on something no one could see is noise, not difficulty.
 */
const CONTRAST_SHARE = 0.88;
const MIN_CONTRAST = 60;
const MIN_LOW_CONTRAST = 15;
const COLOUR_CANDIDATES = 6;

export interface PaintPlan {
  wantContrast: boolean;
  /** Tried in order; the first that stands out wins (or the one that stands out most). */
  colours: Hsl[];
  /** A two-stop linear gradient: the second stop shifted in lightness. */
  gradient: { lightShift: number; x2: number; y2: number } | null;
  /** Used when the shape has a stroke width. */
  stroke: Hsl;
}

export interface SceneObject {
  spec: ShapeSpec;
  paint: PaintPlan;
  /** The box clipped to the image; null when nothing of the shape is inside. */
  box: Extent | null;
  /** Share of the shape visible in the final image, 0..1. */
  visible: number;
  labeled: boolean;
}

export type Blur = { kind: 'motion'; length: number; angle: number } | { kind: 'gaussian'; sigma: number };

export interface Scene {
  width: number;
  height: number;
  /** A complete SVG document: background and the clutter under the shapes. */
  backgroundSvg: string;
  /** Objects in drawing order (later ones cover earlier ones), labeled or not. */
  objects: SceneObject[];
  /** SVG fragment drawn over the shapes. */
  overlay: string;
  blur: Blur | null;
  /** Standard deviation of the added sensor noise, in 0..255 levels; 0 for none. */
  noiseSigma: number;
  jpegQuality: number;
}

/** An object being placed: its interior sample points and which of them are still visible. */
interface Placement {
  spec: ShapeSpec;
  samples: [number, number][];
  visibleFlags: boolean[];
}

export function layoutScene(rng: Rng, mix: SizeMix = 'coco'): Scene {
  const { width, height } = imageSize(rng);
  const bg = background(rng, width, height);
  const under = clutter(rng, width, height, bg.lightness);
  const imageRect = { x: 0, y: 0, w: width, h: height };

  const placements: Placement[] = [];
  const count = rng.bool(0.05) ? 0 : rng.int(1, 8);
  for (let k = 0; k < count; k++) {
    const place = () => samplePlacement(randomShape(rng, width, height, mix), imageRect);
    let candidate = place();
    for (let tries = 1; tries < PLACEMENT_TRIES[mix] && !keepsLabelsVisible(candidate, placements); tries++) {
      candidate = place();
    }
    for (const earlier of placements) hideUnder(earlier, candidate.spec);
    placements.push(candidate);
  }

  const objects = placements.map((p): SceneObject => {
    const visible = visibleShare(p);
    const box = clippedExtent(p.spec, imageRect);
    const labeled = box !== null && visible >= MIN_VISIBLE && Math.min(box.w, box.h) >= MIN_BOX_SIDE;
    return { spec: p.spec, paint: paintPlan(rng), box, visible, labeled };
  });

  return {
    width,
    height,
    backgroundSvg: svgDocument(width, height, bg.defs, bg.body + under),
    objects,
    overlay: overlayClutter(rng, width, height),
    blur: blurPlan(rng),
    noiseSigma: rng.bool(0.35) ? rng.range(2, 12) : 0,
    jpegQuality: rng.int(70, 95),
  };
}

/** The labels of a laid-out scene, in pixels, clipped to the image. */
export function sceneBoxes(scene: Scene): DatasetBox[] {
  return scene.objects
    .filter((o) => o.labeled)
    .map((o) => ({ classIndex: SHAPE_CLASSES.indexOf(o.spec.cls), ...o.box! }));
}

/**
 * The SVG drawn over the rendered background: the shapes, painted against `backgroundUnder` (the mean colour of
 * the background in a box), then the overlay clutter.
 */
export function foregroundSvg(scene: Scene, backgroundUnder: (box: Extent) => Rgb): string {
  const defs: string[] = [];
  const shapes = scene.objects.map((o, i) => {
    const under = o.box ? backgroundUnder(o.box) : ([128, 128, 128] as Rgb);
    const colour = pickColour(o.paint, under);
    let fill = hslText(colour);
    if (o.paint.gradient) {
      const g = o.paint.gradient;
      const end = hslText({ ...colour, l: colour.l + g.lightShift });
      defs.push(
        `<linearGradient id="paint${i}" x1="0" y1="0" x2="${g.x2.toFixed(2)}" y2="${g.y2.toFixed(2)}"><stop offset="0" stop-color="${fill}"/><stop offset="1" stop-color="${end}"/></linearGradient>`,
      );
      fill = `url(#paint${i})`;
    }
    const stroke = o.spec.stroke ? { stroke: hslText(o.paint.stroke) } : {};
    return shapeSvg({ ...o.spec, fill, ...stroke });
  });
  return svgDocument(scene.width, scene.height, defs.join(''), shapes.join('') + scene.overlay);
}

function svgDocument(width: number, height: number, defs: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><defs>${defs}</defs>${body}</svg>`;
}

/** Between about 320x240 and 512x384; mostly landscape, some portrait, a few near-square. */
function imageSize(rng: Rng): { width: number; height: number } {
  const short = rng.int(240, 384);
  const long = rng.int(Math.max(320, short), Math.min(512, Math.round(short * 1.7)));
  return rng.bool(0.7) ? { width: long, height: short } : { width: short, height: long };
}

function randomShape(rng: Rng, width: number, height: number, mix: SizeMix): ShapeSpec {
  const size = drawObjectSize(rng, mix, width, height);
  // `log-uniform` draws the circumdiameter; `coco` the box's side, so the radius is found once the shape and its
  // rotation are known (below). The draws keep the first sample's order, so `log-uniform` reproduces it exactly.
  let diameter = size;
  const margin = () => 0.3 * diameter; // lets some objects be cut by the border
  const stroked = rng.bool(0.25);
  const strokeShare = rng.range(0.02, 0.06);
  const cls = rng.pick(SHAPE_CLASSES);
  const u = rng.float();
  const v = rng.float();
  const rotation = rng.range(0, 360);
  if (mix === 'coco') {
    const unit = shapeExtent({ cls, cx: 0, cy: 0, r: 1, rotation, fill: 'none' });
    diameter = (2 * size) / Math.sqrt(unit.w * unit.h);
  }
  const strokeWidth = Math.max(1, diameter * strokeShare);
  return {
    cls,
    cx: between(-margin(), width + margin(), u),
    cy: between(-margin(), height + margin(), v),
    r: diameter / 2,
    rotation,
    fill: 'none', // chosen later against the rendered background
    ...(stroked ? { stroke: 'none', strokeWidth } : {}),
  };
}

/** `Rng.range`'s arithmetic on a value drawn earlier. */
function between(lo: number, hi: number, u: number): number {
  return lo + (hi - lo) * u;
}

/** Samples points on a grid inside the shape; those outside the image start out hidden. */
function samplePlacement(spec: ShapeSpec, image: Extent): Placement {
  const ext = shapeExtent({ ...spec, stroke: undefined });
  const outline = shapeOutline(spec);
  const samples: [number, number][] = [];
  for (let i = 0; i < COVERAGE_GRID; i++) {
    for (let j = 0; j < COVERAGE_GRID; j++) {
      const x = ext.x + ((i + 0.5) * ext.w) / COVERAGE_GRID;
      const y = ext.y + ((j + 0.5) * ext.h) / COVERAGE_GRID;
      if (shapeContains(spec, x, y, outline)) samples.push([x, y]);
    }
  }
  const inImage = ([x, y]: [number, number]) => x >= 0 && y >= 0 && x < image.w && y < image.h;
  return { spec, samples, visibleFlags: samples.map(inImage) };
}

function visibleShare(p: Placement, hiddenNow = 0): number {
  return p.samples.length ? (p.visibleFlags.filter(Boolean).length - hiddenNow) / p.samples.length : 0;
}

/** Whether `candidate` keeps its own label and hides no earlier label. */
function keepsLabelsVisible(candidate: Placement, earlier: Placement[]): boolean {
  if (visibleShare(candidate) < MIN_VISIBLE) return false;
  const outline = shapeOutline(candidate.spec);
  return earlier.every((p) => {
    if (visibleShare(p) < MIN_VISIBLE) return true; // already lost
    let hidden = 0;
    p.samples.forEach(([x, y], i) => {
      if (p.visibleFlags[i] && shapeContains(candidate.spec, x, y, outline)) hidden++;
    });
    return visibleShare(p, hidden) >= MIN_VISIBLE;
  });
}

function hideUnder(p: Placement, cover: ShapeSpec): void {
  const outline = shapeOutline(cover);
  p.samples.forEach(([x, y], i) => {
    if (p.visibleFlags[i] && shapeContains(cover, x, y, outline)) p.visibleFlags[i] = false;
  });
}

/** Draws the same number of values whatever is chosen later, so the PRNG stream never depends on pixels. */
function paintPlan(rng: Rng): PaintPlan {
  const wantContrast = rng.bool(CONTRAST_SHARE);
  const colours = Array.from({ length: COLOUR_CANDIDATES }, () => ({
    h: rng.range(0, 360),
    s: rng.bool(0.2) ? rng.range(0, 20) : rng.range(30, 100),
    l: rng.range(8, 92),
  }));
  const gradient = rng.bool(0.3)
    ? { lightShift: rng.pick([-1, 1]) * rng.range(10, 25), x2: rng.range(0, 1), y2: rng.range(0, 1) }
    : null;
  const stroke = { h: rng.range(0, 360), s: rng.range(0, 80), l: rng.range(5, 95) };
  return { wantContrast, colours, gradient, stroke };
}

function pickColour(plan: PaintPlan, under: Rgb): Hsl {
  const enough = plan.wantContrast ? MIN_CONTRAST : MIN_LOW_CONTRAST;
  let best = plan.colours[0]!;
  let bestContrast = -1;
  for (const c of plan.colours) {
    const k = contrast(hslToRgb(c), under);
    if (k >= enough) return c;
    if (k > bestContrast) [best, bestContrast] = [c, k];
  }
  return best;
}

function blurPlan(rng: Rng): Blur | null {
  const roll = rng.float();
  if (roll < 0.15) return { kind: 'motion', length: rng.int(3, 7), angle: rng.range(0, Math.PI) };
  if (roll < 0.25) return { kind: 'gaussian', sigma: rng.range(0.5, 1.3) };
  return null;
}
