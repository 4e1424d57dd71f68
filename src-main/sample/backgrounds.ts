import type { Rng } from '../util/random.js';
import { hslText } from './colors.js';

/**
 * Procedural backgrounds and distractor clutter for the sample dataset, as SVG fragments. Nothing here may
 * look like one of the shape classes: clutter is lines, arcs, squiggles, smooth blobs, many-sided irregular
 * polygons and elongated ellipses or bars, so the detector has to tell shapes apart rather than find
 * "anything with an edge".
 */

export interface Background {
  defs: string;
  body: string;
  /** Rough mean HSL lightness, 0..100, for picking clutter colours that show. */
  lightness: number;
}

const n1 = (v: number) => v.toFixed(1);
const BACKGROUND_KINDS = ['linear', 'radial', 'stripes', 'checker', 'noise', 'noise', 'blobs'] as const;

export function background(rng: Rng, w: number, h: number): Background {
  const hue = rng.range(0, 360);
  const sat = rng.range(0, 55);
  const light = rng.range(12, 88);
  const c1 = hslText({ h: hue, s: sat, l: light });
  const c2 = hslText({ h: hue + rng.range(-60, 60), s: sat, l: light + rng.range(-22, 22) });
  const full = (fill: string) => `<rect width="${w}" height="${h}" fill="${fill}"/>`;
  const kind = rng.pick(BACKGROUND_KINDS);
  let bg: Background;
  switch (kind) {
    case 'linear': {
      const a = rng.range(0, 1).toFixed(2);
      const b = rng.range(0, 1).toFixed(2);
      bg = {
        defs: `<linearGradient id="bg" x1="0" y1="${a}" x2="1" y2="${b}"><stop offset="0" stop-color="${c1}"/><stop offset="1" stop-color="${c2}"/></linearGradient>`,
        body: full('url(#bg)'),
        lightness: light,
      };
      break;
    }
    case 'radial': {
      const cx = rng.range(0.1, 0.9).toFixed(2);
      const cy = rng.range(0.1, 0.9).toFixed(2);
      bg = {
        defs: `<radialGradient id="bg" cx="${cx}" cy="${cy}" r="${rng.range(0.4, 1).toFixed(2)}"><stop offset="0" stop-color="${c2}"/><stop offset="1" stop-color="${c1}"/></radialGradient>`,
        body: full('url(#bg)'),
        lightness: light,
      };
      break;
    }
    case 'stripes': {
      const size = n1(rng.range(6, 48));
      const band = n1(Number(size) * rng.range(0.2, 0.7));
      bg = {
        defs: `<pattern id="bg" width="${size}" height="${size}" patternUnits="userSpaceOnUse" patternTransform="rotate(${rng.int(0, 179)})"><rect width="${size}" height="${size}" fill="${c1}"/><rect width="${band}" height="${size}" fill="${c2}"/></pattern>`,
        body: full('url(#bg)'),
        lightness: light,
      };
      break;
    }
    case 'checker': {
      const s = rng.range(8, 48);
      const [a, b] = [n1(s), n1(2 * s)];
      bg = {
        defs: `<pattern id="bg" width="${b}" height="${b}" patternUnits="userSpaceOnUse" patternTransform="rotate(${rng.pick([0, 0, rng.int(0, 89)])})"><rect width="${b}" height="${b}" fill="${c1}"/><rect width="${a}" height="${a}" fill="${c2}"/><rect x="${a}" y="${a}" width="${a}" height="${a}" fill="${c2}"/></pattern>`,
        body: full('url(#bg)'),
        lightness: light,
      };
      break;
    }
    case 'noise': {
      // Grey fractal noise over the base colour: grass, sand, concrete, bark.
      bg = { defs: noiseFilter(rng, 'bg-noise', rng.range(0.25, 0.6)), body: full(c1) + filteredRect(w, h, 'bg-noise'), lightness: light };
      break;
    }
    case 'blobs': {
      const blobs: string[] = [];
      for (let i = 0, n = rng.int(6, 20); i < n; i++) {
        const fill = hslText({ h: hue + rng.range(-40, 40), s: sat, l: light + rng.range(-25, 25) });
        blobs.push(
          `<ellipse cx="${n1(rng.range(0, w))}" cy="${n1(rng.range(0, h))}" rx="${n1(rng.range(20, w / 2))}" ry="${n1(rng.range(20, h / 2))}" fill="${fill}" opacity="${rng.range(0.3, 0.8).toFixed(2)}"/>`,
        );
      }
      bg = {
        defs: `<filter id="soft"><feGaussianBlur stdDeviation="${n1(rng.range(4, 14))}"/></filter>`,
        body: `${full(c1)}<g filter="url(#soft)">${blobs.join('')}</g>`,
        lightness: light,
      };
      break;
    }
  }
  // A faint texture over the smooth kinds too, so flat areas are rarely perfectly flat.
  if (kind !== 'noise' && rng.bool(0.35)) {
    bg.defs += noiseFilter(rng, 'grain', rng.range(0.08, 0.25));
    bg.body += filteredRect(w, h, 'grain');
  }
  return bg;
}

/** Grey `feTurbulence` noise made translucent by `amount`, applied through a full-size rect. */
function noiseFilter(rng: Rng, id: string, amount: number): string {
  const freq = rng.range(0.005, 0.1).toFixed(4);
  return (
    `<filter id="${id}" x="0" y="0" width="100%" height="100%"><feTurbulence type="fractalNoise" baseFrequency="${freq}" numOctaves="${rng.int(2, 4)}" seed="${rng.int(0, 9999)}"/>` +
    `<feColorMatrix type="saturate" values="0"/><feComponentTransfer><feFuncA type="linear" slope="${amount.toFixed(2)}"/></feComponentTransfer></filter>`
  );
}

const filteredRect = (w: number, h: number, filterId: string) => `<rect width="${w}" height="${h}" filter="url(#${filterId})"/>`;

const CLUTTER_KINDS = ['line', 'arc', 'squiggle', 'blob', 'polygon', 'ellipse', 'bar'] as const;

/** Distractors drawn under the shapes. */
export function clutter(rng: Rng, w: number, h: number, lightness: number): string {
  const parts: string[] = [];
  const colour = () =>
    hslText({ h: rng.range(0, 360), s: rng.range(0, 70), l: lightness + rng.pick([-1, 1]) * rng.range(10, 45) });
  for (let i = 0, n = rng.int(0, 8); i < n; i++) {
    const kind = rng.pick(CLUTTER_KINDS);
    const x = rng.range(0, w);
    const y = rng.range(0, h);
    const s = rng.logRange(6, Math.min(w, h) / 2);
    const line = `stroke="${colour()}" stroke-width="${n1(rng.range(1, 4))}" fill="none" stroke-linecap="round"`;
    const solid = `fill="${colour()}" opacity="${rng.range(0.5, 1).toFixed(2)}"`;
    switch (kind) {
      case 'line':
        parts.push(straightLine(rng, x, y, s * 2, line));
        break;
      case 'arc':
        parts.push(arc(rng, x, y, s, line));
        break;
      case 'squiggle': {
        let d = `M${n1(x)},${n1(y)}`;
        for (let k = 0, m = rng.int(3, 6); k < m; k++) {
          d += ` Q${n1(x + rng.range(-s, s))},${n1(y + rng.range(-s, s))} ${n1(x + rng.range(-s, s))},${n1(y + rng.range(-s, s))}`;
        }
        parts.push(`<path d="${d}" ${line}/>`);
        break;
      }
      case 'blob': {
        // A smooth closed curve through jittered points: no corners at all.
        const pts = jitteredRing(rng, x, y, s, rng.int(5, 9), 0.55);
        const mid = (a: number[], b: number[]) => `${n1((a[0]! + b[0]!) / 2)},${n1((a[1]! + b[1]!) / 2)}`;
        let d = `M${mid(pts.at(-1)!, pts[0]!)}`;
        pts.forEach((p, k) => (d += ` Q${n1(p[0]!)},${n1(p[1]!)} ${mid(p, pts[(k + 1) % pts.length]!)}`));
        parts.push(`<path d="${d}Z" ${solid}/>`);
        break;
      }
      case 'polygon': {
        // Small, with nine or more jagged sides: a pebble with no symmetry, so not a circle, hexagon or star.
        const pts = jitteredRing(rng, x, y, Math.min(s, 24), rng.int(9, 16), 0.6);
        parts.push(`<polygon points="${pts.map((p) => `${n1(p[0]!)},${n1(p[1]!)}`).join(' ')}" ${solid}/>`);
        break;
      }
      case 'ellipse': {
        // Clearly elongated, so never mistaken for a circle.
        const rx = s;
        const ry = s / rng.range(2.2, 4);
        parts.push(
          `<ellipse cx="${n1(x)}" cy="${n1(y)}" rx="${n1(rx)}" ry="${n1(ry)}" transform="rotate(${rng.int(0, 179)} ${n1(x)} ${n1(y)})" ${solid}/>`,
        );
        break;
      }
      case 'bar': {
        // A long thin rectangle (aspect >= 3): square corners, but not a square.
        const len = 2 * s;
        const thick = len / rng.range(3, 8);
        parts.push(
          `<rect x="${n1(x - len / 2)}" y="${n1(y - thick / 2)}" width="${n1(len)}" height="${n1(thick)}" transform="rotate(${rng.int(0, 179)} ${n1(x)} ${n1(y)})" ${solid}/>`,
        );
        break;
      }
    }
  }
  return parts.join('');
}

/** A few thin lines and arcs drawn over the shapes, like wires or twigs: partial occlusion that keeps labels valid. */
export function overlayClutter(rng: Rng, w: number, h: number): string {
  const parts: string[] = [];
  for (let i = 0, n = rng.bool(0.3) ? rng.int(1, 3) : 0; i < n; i++) {
    const stroke = `stroke="${hslText({ h: rng.range(0, 360), s: rng.range(0, 60), l: rng.range(5, 95) })}" stroke-width="${n1(rng.range(0.8, 1.8))}" fill="none" stroke-linecap="round"`;
    const x = rng.range(0, w);
    const y = rng.range(0, h);
    const s = rng.range(20, Math.max(w, h) / 2);
    parts.push(rng.bool() ? straightLine(rng, x, y, 2 * s, stroke) : arc(rng, x, y, s, stroke));
  }
  return parts.join('');
}

function straightLine(rng: Rng, x: number, y: number, length: number, attrs: string): string {
  const a = rng.range(0, Math.PI);
  const dx = (length / 2) * Math.cos(a);
  const dy = (length / 2) * Math.sin(a);
  return `<line x1="${n1(x - dx)}" y1="${n1(y - dy)}" x2="${n1(x + dx)}" y2="${n1(y + dy)}" ${attrs}/>`;
}

function arc(rng: Rng, x: number, y: number, r: number, attrs: string): string {
  const a0 = rng.range(0, 2 * Math.PI);
  const a1 = a0 + rng.range(0.5, 2.5);
  return `<path d="M${n1(x + r * Math.cos(a0))},${n1(y + r * Math.sin(a0))} A${n1(r)},${n1(r)} 0 0 1 ${n1(x + r * Math.cos(a1))},${n1(y + r * Math.sin(a1))}" ${attrs}/>`;
}

/** `n` points around (x, y) at radius `r` scaled by a random factor in [minScale, 1], angles jittered too. */
function jitteredRing(rng: Rng, x: number, y: number, r: number, n: number, minScale: number): number[][] {
  const phase = rng.range(0, 2 * Math.PI);
  return Array.from({ length: n }, (_, k) => {
    const a = phase + ((k + rng.range(-0.3, 0.3)) * 2 * Math.PI) / n;
    const rr = r * rng.range(minScale, 1);
    return [x + rr * Math.cos(a), y + rr * Math.sin(a)];
  });
}
