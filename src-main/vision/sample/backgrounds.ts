import type { Rng } from '../../util/random.js';

/**
 * Procedural backgrounds and clutter for the sample dataset, as SVG. Each background reports its mean
 * lightness so objects can be given contrast most of the time (but not always).
 */

export interface Background {
  defs: string;
  body: string;
  /** Approximate mean lightness, 0..100. */
  lightness: number;
}

export const hsl = (h: number, s: number, l: number) => `hsl(${h.toFixed(0)},${s.toFixed(0)}%,${l.toFixed(0)}%)`;

export function background(rng: Rng, w: number, h: number): Background {
  const hue = rng.range(0, 360);
  const sat = rng.range(5, 55);
  const light = rng.range(15, 85);
  const c1 = hsl(hue, sat, light);
  const c2 = hsl((hue + rng.range(-60, 60) + 360) % 360, sat, Math.min(95, Math.max(5, light + rng.range(-20, 20))));
  const kind = rng.pick(['linear', 'radial', 'stripes', 'checker', 'noise', 'noise', 'blobs'] as const);
  switch (kind) {
    case 'linear': {
      const a = rng.range(0, 1);
      return {
        defs: `<linearGradient id="bg" x1="0" y1="${a.toFixed(2)}" x2="1" y2="${(1 - a).toFixed(2)}"><stop offset="0" stop-color="${c1}"/><stop offset="1" stop-color="${c2}"/></linearGradient>`,
        body: `<rect width="${w}" height="${h}" fill="url(#bg)"/>`,
        lightness: light,
      };
    }
    case 'radial':
      return {
        defs: `<radialGradient id="bg" cx="${rng.range(0.2, 0.8).toFixed(2)}" cy="${rng.range(0.2, 0.8).toFixed(2)}" r="0.8"><stop offset="0" stop-color="${c2}"/><stop offset="1" stop-color="${c1}"/></radialGradient>`,
        body: `<rect width="${w}" height="${h}" fill="url(#bg)"/>`,
        lightness: light,
      };
    case 'stripes': {
      const size = rng.range(6, 40);
      return {
        defs: `<pattern id="bg" width="${size.toFixed(1)}" height="${size.toFixed(1)}" patternUnits="userSpaceOnUse" patternTransform="rotate(${rng.range(0, 180).toFixed(0)})"><rect width="${size.toFixed(1)}" height="${size.toFixed(1)}" fill="${c1}"/><rect width="${(size / 2).toFixed(1)}" height="${size.toFixed(1)}" fill="${c2}"/></pattern>`,
        body: `<rect width="${w}" height="${h}" fill="url(#bg)"/>`,
        lightness: light,
      };
    }
    case 'checker': {
      const s = rng.range(8, 48);
      return {
        defs: `<pattern id="bg" width="${(2 * s).toFixed(1)}" height="${(2 * s).toFixed(1)}" patternUnits="userSpaceOnUse"><rect width="${(2 * s).toFixed(1)}" height="${(2 * s).toFixed(1)}" fill="${c1}"/><rect width="${s.toFixed(1)}" height="${s.toFixed(1)}" fill="${c2}"/><rect x="${s.toFixed(1)}" y="${s.toFixed(1)}" width="${s.toFixed(1)}" height="${s.toFixed(1)}" fill="${c2}"/></pattern>`,
        body: `<rect width="${w}" height="${h}" fill="url(#bg)"/>`,
        lightness: light,
      };
    }
    case 'noise': {
      // Fractal noise tinted by the base colour: grass, sand, concrete, bark.
      const freq = rng.range(0.005, 0.08);
      const amount = rng.range(0.25, 0.6);
      return {
        defs: `<filter id="tex" x="0" y="0" width="100%" height="100%"><feTurbulence type="fractalNoise" baseFrequency="${freq.toFixed(4)}" numOctaves="${rng.int(2, 4)}" seed="${rng.int(0, 9999)}"/><feColorMatrix type="saturate" values="0"/><feComponentTransfer><feFuncA type="linear" slope="${amount.toFixed(2)}"/></feComponentTransfer></filter>`,
        body: `<rect width="${w}" height="${h}" fill="${c1}"/><rect width="${w}" height="${h}" filter="url(#tex)"/>`,
        lightness: light,
      };
    }
    case 'blobs': {
      const blobs: string[] = [];
      for (let i = 0, n = rng.int(6, 20); i < n; i++) {
        const l = Math.min(95, Math.max(5, light + rng.range(-25, 25)));
        blobs.push(
          `<ellipse cx="${rng.range(0, w).toFixed(1)}" cy="${rng.range(0, h).toFixed(1)}" rx="${rng.range(20, w / 2).toFixed(1)}" ry="${rng.range(20, h / 2).toFixed(1)}" fill="${hsl(hue + rng.range(-40, 40), sat, l)}" opacity="${rng.range(0.3, 0.8).toFixed(2)}"/>`,
        );
      }
      return {
        defs: `<filter id="soft"><feGaussianBlur stdDeviation="${rng.range(4, 14).toFixed(1)}"/></filter>`,
        body: `<rect width="${w}" height="${h}" fill="${c1}"/><g filter="url(#soft)">${blobs.join('')}</g>`,
        lightness: light,
      };
    }
  }
}

/**
 * Clutter that is not one of the classes: lines, arcs, scribbles and irregular many-sided polygons, so the
 * detector has to tell shapes apart rather than find "anything with an edge".
 */
export function clutter(rng: Rng, w: number, h: number, lightness: number): string {
  const parts: string[] = [];
  const colour = () => hsl(rng.range(0, 360), rng.range(0, 70), Math.min(95, Math.max(5, lightness + rng.pick([-1, 1]) * rng.range(10, 40))));
  for (let i = 0, n = rng.int(0, 7); i < n; i++) {
    const kind = rng.pick(['line', 'arc', 'scribble', 'blob'] as const);
    const x = rng.range(0, w);
    const y = rng.range(0, h);
    const s = rng.logRange(8, Math.min(w, h) / 2);
    const stroke = `stroke="${colour()}" stroke-width="${rng.range(1, 4).toFixed(1)}" fill="none" stroke-linecap="round"`;
    if (kind === 'line') {
      parts.push(`<line x1="${x.toFixed(1)}" y1="${y.toFixed(1)}" x2="${(x + rng.range(-2, 2) * s).toFixed(1)}" y2="${(y + rng.range(-2, 2) * s).toFixed(1)}" ${stroke}/>`);
    } else if (kind === 'arc') {
      const a0 = rng.range(0, 2 * Math.PI);
      const a1 = a0 + rng.range(0.5, 2.5);
      parts.push(
        `<path d="M${(x + s * Math.cos(a0)).toFixed(1)},${(y + s * Math.sin(a0)).toFixed(1)} A${s.toFixed(1)},${s.toFixed(1)} 0 0 1 ${(x + s * Math.cos(a1)).toFixed(1)},${(y + s * Math.sin(a1)).toFixed(1)}" ${stroke}/>`,
      );
    } else if (kind === 'scribble') {
      let d = `M${x.toFixed(1)},${y.toFixed(1)}`;
      for (let k = 0; k < rng.int(3, 6); k++) {
        d += ` Q${(x + rng.range(-s, s)).toFixed(1)},${(y + rng.range(-s, s)).toFixed(1)} ${(x + rng.range(-s, s)).toFixed(1)},${(y + rng.range(-s, s)).toFixed(1)}`;
      }
      parts.push(`<path d="${d}" ${stroke}/>`);
    } else {
      // An irregular polygon with jittered radius: no clean corners, no symmetry.
      const n = rng.int(9, 16);
      const pts = Array.from({ length: n }, (_, k) => {
        const a = (2 * Math.PI * k) / n;
        const r = s * rng.range(0.45, 1);
        return `${(x + r * Math.cos(a)).toFixed(1)},${(y + r * Math.sin(a)).toFixed(1)}`;
      });
      parts.push(`<polygon points="${pts.join(' ')}" fill="${colour()}" opacity="${rng.range(0.5, 1).toFixed(2)}"/>`);
    }
  }
  return parts.join('');
}
