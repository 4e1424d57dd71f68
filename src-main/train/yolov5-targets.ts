/**
 * YOLOv5's build_targets, on the CPU per batch (the matching reads only boxes and anchors, never predictions):
 * per level, every (anchor, box) pair whose width and height ratios to the anchor are within `anchorT` (4.0) is
 * a match, and each match is also assigned to the up to two neighbouring cells whose edge the box centre is
 * within half a cell of (the 0.5 "bias"), so a box has 3 to 9 positives per level. Entries come out in
 * YOLOv5's order (offset group, then anchor, then box), which decides which of two entries on one cell sets its
 * objectness target (the last, as PyTorch's CPU index_put writes them).
 */

export interface LevelGeometry {
  h: number;
  w: number;
  stride: number;
  /** [w, h] in input pixels per anchor. */
  anchors: readonly (readonly [number, number])[];
}

/** The matches of one level, `count` entries. */
export interface LevelTargets {
  count: number;
  /** Flat cell index ((b x na + a) x H + gj) x W + gi per entry. */
  cell: Int32Array;
  /** Whether the entry is the last on its cell (the one that sets the cell's objectness target). */
  owner: Uint8Array;
  /** Per entry: centre minus cell (in [-0.5, 1.5]) and size, in grid units: tx, ty, tw, th. */
  box: Float32Array;
  /** Per entry: the anchor's [w, h] in grid units. */
  anchor: Float32Array;
  cls: Int32Array;
  weight: Float32Array;
}

/** YOLOv5's neighbour offsets x 0.5: the cell itself, then left, up, right, down. */
const OFFSETS = [
  [0, 0],
  [0.5, 0],
  [0, 0.5],
  [-0.5, 0],
  [0, -0.5],
] as const;

/** Python's x % 1 for floats (non-negative, also for negative x). */
const frac = (x: number) => ((x % 1) + 1) % 1;

/**
 * @param targets [n, maxBoxes, 6]: cls, x1, y1, x2, y2 in input pixels, weight (0 = padding row), as the loader
 *   makes them
 */
export function yolov5Targets(
  targets: Float32Array,
  n: number,
  maxBoxes: number,
  levels: readonly LevelGeometry[],
  anchorT = 4.0,
): LevelTargets[] {
  const boxes: { b: number; cls: number; cx: number; cy: number; w: number; h: number; weight: number }[] = [];
  for (let b = 0; b < n; b++)
    for (let j = 0; j < maxBoxes; j++) {
      const r = (b * maxBoxes + j) * 6;
      const weight = targets[r + 5]!;
      if (!(weight > 0)) continue;
      const [x1, y1, x2, y2] = [targets[r + 1]!, targets[r + 2]!, targets[r + 3]!, targets[r + 4]!];
      boxes.push({ b, cls: targets[r]!, cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1, weight });
    }

  return levels.map(({ h, w, stride, anchors }) => {
    const na = anchors.length;
    // Matches in YOLOv5's order: anchor-major, then box.
    const matches: { t: (typeof boxes)[number]; a: number; gx: number; gy: number; gw: number; gh: number }[] = [];
    for (let a = 0; a < na; a++) {
      const [aw, ah] = [anchors[a]![0] / stride, anchors[a]![1] / stride];
      for (const t of boxes) {
        const [gw, gh] = [t.w / stride, t.h / stride];
        const rw = gw / aw;
        const rh = gh / ah;
        if (Math.max(rw, 1 / rw, rh, 1 / rh) < anchorT)
          matches.push({ t, a, gx: t.cx / stride, gy: t.cy / stride, gw, gh });
      }
    }
    const picked: { m: (typeof matches)[number]; o: number }[] = [];
    OFFSETS.forEach((_, o) => {
      for (const m of matches) {
        const [gxi, gyi] = [w - m.gx, h - m.gy];
        const on =
          o === 0 ||
          (o === 1 && frac(m.gx) < 0.5 && m.gx > 1) ||
          (o === 2 && frac(m.gy) < 0.5 && m.gy > 1) ||
          (o === 3 && frac(gxi) < 0.5 && gxi > 1) ||
          (o === 4 && frac(gyi) < 0.5 && gyi > 1);
        if (on) picked.push({ m, o });
      }
    });
    const count = picked.length;
    const out: LevelTargets = {
      count,
      cell: new Int32Array(count),
      owner: new Uint8Array(count),
      box: new Float32Array(count * 4),
      anchor: new Float32Array(count * 2),
      cls: new Int32Array(count),
      weight: new Float32Array(count),
    };
    const lastOnCell = new Map<number, number>();
    picked.forEach(({ m, o }, k) => {
      // .long() truncates; YOLOv5 clamps the indices in place, so the box offsets are taken from the clamped cell.
      const gi = Math.min(Math.max(Math.trunc(m.gx - OFFSETS[o]![0]), 0), w - 1);
      const gj = Math.min(Math.max(Math.trunc(m.gy - OFFSETS[o]![1]), 0), h - 1);
      const cell = ((m.t.b * na + m.a) * h + gj) * w + gi;
      out.cell[k] = cell;
      out.box.set([m.gx - gi, m.gy - gj, m.gw, m.gh], k * 4);
      out.anchor.set([anchors[m.a]![0] / stride, anchors[m.a]![1] / stride], k * 2);
      out.cls[k] = m.t.cls;
      out.weight[k] = m.t.weight;
      lastOnCell.set(cell, k);
    });
    for (const k of lastOnCell.values()) out.owner[k] = 1;
    return out;
  });
}
