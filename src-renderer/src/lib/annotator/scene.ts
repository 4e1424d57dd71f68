/**
 * The annotator's Konva scene: the photo, the boxes (nodes updated in place by annotation id, so a box being
 * dragged is never replaced), every label drawn by one shape, the selection's transformer, the crosshair, and the
 * view (zoom about the cursor, pan). Pointer gestures are explicit states (idle, panning, drawing); what a
 * gesture means is the editor's business (`SceneEvents`). The scene reads boxes, it never decides about them.
 * Read-only (`editable: false`), it is the detection viewer: a drag pans, a click picks a box.
 */
import Konva from 'konva';
import type { AnnotationRecord } from '../../../../src-main/store/types';
import type { LoadedImage } from './image-cache';

export interface View {
  scale: number;
  x: number;
  y: number;
}

export interface SceneEvents {
  /** The boxes to draw, the selection, and each box's colour and label. */
  boxes(): AnnotationRecord[];
  selectedId(): number | null;
  colour(a: AnnotationRecord): string;
  label(a: AnnotationRecord): string;
  /** The colour a new box is drawn in. */
  drawColour(): string;
  select(id: number | null): void;
  /** Edits, from an editable scene only. */
  drawn?(box: { x: number; y: number; w: number; h: number }): void;
  moved?(id: number, x: number, y: number): void;
  resized?(id: number, box: { x: number; y: number; w: number; h: number }): void;
  viewChanged(v: View): void;
}

export interface SceneOptions {
  /** Boxes are drawn, moved and resized (the annotator); otherwise only picked, and a drag pans (a viewer). */
  editable: boolean;
  /**
   * Each label on a dark backing, and a label that would overlap one placed before it (the selection's first) is
   * left out rather than drawn over it: a crowded viewer stays readable. Off in the annotator, whose labels
   * follow a box being dragged and whose frame budget at 1,000 boxes has no room for the layout.
   */
  labelLayout: 'all' | 'no-overlap';
}

type Gesture =
  | { kind: 'idle' }
  | { kind: 'panning'; from: { x: number; y: number }; view: View }
  | { kind: 'drawing'; from: { x: number; y: number }; rect: Konva.Rect };

export class AnnotatorScene {
  readonly stage: Konva.Stage;
  view: View = { scale: 1, x: 0, y: 0 };
  /** Space is held: a drag pans, even one that starts on a box. */
  spaceHeld = false;
  private gesture: Gesture = { kind: 'idle' };
  private size: { width: number; height: number } | null = null;
  private readonly world: Konva.Group;
  private readonly boxLayer: Konva.Layer;
  private readonly guideLayer: Konva.Layer;
  private imageNode: Konva.Image | null = null;
  private photo: LoadedImage | null = null;
  private readonly transformer: Konva.Transformer;
  private readonly hGuide: Konva.Line;
  private readonly vGuide: Konva.Line;
  private readonly labelShape: Konva.Shape;
  private readonly nodes = new Map<number, { rect: Konva.Rect; label: { text: string; color: string } }>();

  private readonly opts: SceneOptions;

  constructor(
    container: HTMLDivElement,
    private readonly ev: SceneEvents,
    opts: Partial<SceneOptions> = {},
  ) {
    this.opts = { editable: true, labelLayout: 'all', ...opts };
    this.stage = new Konva.Stage({ container, width: container.clientWidth, height: container.clientHeight });
    this.boxLayer = new Konva.Layer();
    this.guideLayer = new Konva.Layer({ listening: false });
    this.world = new Konva.Group();
    this.boxLayer.add(this.world);
    this.labelShape = new Konva.Shape({ listening: false, sceneFunc: (ctx) => this.drawLabels(ctx) });
    this.world.add(this.labelShape);
    this.transformer = new Konva.Transformer({
      rotateEnabled: false,
      keepRatio: false,
      ignoreStroke: true,
      anchorSize: 9,
      borderStroke: '#ffffff',
      anchorStroke: '#ffffff',
      anchorFill: '#4f8cff',
    });
    this.boxLayer.add(this.transformer);
    this.hGuide = new Konva.Line({ stroke: 'rgba(255,255,255,0.35)', strokeWidth: 1, dash: [4, 4] });
    this.vGuide = new Konva.Line({ stroke: 'rgba(255,255,255,0.35)', strokeWidth: 1, dash: [4, 4] });
    this.guideLayer.add(this.hGuide, this.vGuide);
    this.stage.add(this.boxLayer, this.guideLayer);
    this.stage.on('mousedown', (e) => this.pointerDown(e));
    this.stage.on('mousemove', () => this.pointerMove());
    this.stage.on('mouseup', () => this.endGesture());
    // The crosshair leaves with the pointer.
    this.stage.on('mouseleave', () => {
      this.hGuide.points([]);
      this.vGuide.points([]);
      this.guideLayer.batchDraw();
    });
    this.stage.on('wheel', (e) => this.wheel(e));
  }

  // ---- the photo and the view ----------------------------------------------------------------------

  /** Shows an image (its pixels, or nothing when they cannot be shown) of the given size, fitted. */
  setImage(photo: LoadedImage | null, size: { width: number; height: number }): void {
    this.photo = photo;
    this.size = size;
    if (photo) {
      if (!this.imageNode) {
        this.imageNode = new Konva.Image({ image: photo.screen, x: 0, y: 0, listening: false });
        this.world.add(this.imageNode);
        this.imageNode.moveToBottom();
      } else this.imageNode.image(photo.screen);
    }
    this.imageNode?.visible(photo !== null);
    this.imageNode?.size(size);
    this.fit();
    this.render();
    this.boxLayer.draw();
  }

  /** The bitmap while it has enough pixels for the zoom, else the full photo. */
  private pickSource(): void {
    if (!this.imageNode || !this.photo || !this.size) return;
    const needed = this.size.width * this.view.scale;
    const src = needed > this.photo.screen.width * 1.1 ? this.photo.full : this.photo.screen;
    if (this.imageNode.image() !== src) this.imageNode.image(src);
  }

  private applyView(): void {
    this.pickSource();
    this.world.scale({ x: this.view.scale, y: this.view.scale });
    this.world.position({ x: this.view.x, y: this.view.y });
    this.transformer.forceUpdate();
    this.boxLayer.batchDraw();
    this.ev.viewChanged(this.view);
  }

  fit(): void {
    if (!this.size) return;
    const { width, height } = this.size;
    const s = Math.min(this.stage.width() / width, this.stage.height() / height) * 0.98;
    this.view = { scale: s, x: (this.stage.width() - width * s) / 2, y: (this.stage.height() - height * s) / 2 };
    this.applyView();
  }

  resize(width: number, height: number): void {
    this.stage.size({ width, height });
    this.fit();
  }

  /** Pointer position in image pixels. */
  private pointer(): { x: number; y: number } | null {
    const p = this.stage.getPointerPosition();
    if (!p) return null;
    return { x: (p.x - this.view.x) / this.view.scale, y: (p.y - this.view.y) / this.view.scale };
  }

  private clampToImage(q: { x: number; y: number }) {
    const w = this.size?.width ?? Infinity;
    const h = this.size?.height ?? Infinity;
    return { x: Math.min(Math.max(q.x, 0), w), y: Math.min(Math.max(q.y, 0), h) };
  }

  // ---- boxes ---------------------------------------------------------------------------------------

  /**
   * Every label in one shape: a Konva.Text per box cost 10 of a 16 ms frame at 1,000 boxes (bench:ui). Labels
   * read their box's live position, so they follow a drag, and those outside the viewport are skipped.
   */
  private drawLabels(ctx: Konva.Context): void {
    const c = ctx._context;
    const s = this.view.scale;
    const x0 = -this.view.x / s;
    const y0 = -this.view.y / s;
    const x1 = x0 + this.stage.width() / s;
    const y1 = y0 + this.stage.height() / s;
    c.font = `${12 / s}px Arial, sans-serif`;
    c.textBaseline = 'bottom';
    if (this.opts.labelLayout === 'no-overlap') return this.drawLabelsApart(c, [x0, y0, x1, y1]);
    for (const { rect, label } of this.nodes.values()) {
      const x = rect.x();
      const y = rect.y() - 2 / s;
      if (x > x1 || y < y0 || y - 14 / s > y1 || x + rect.width() * rect.scaleX() < x0) continue;
      c.fillStyle = label.color;
      c.fillText(label.text, x, y);
    }
  }

  /**
   * Labels that never overlap: each goes above its box, or just inside its top edge when that spot is taken,
   * or is left out (the box is still named when picked). The selection is placed first.
   */
  private drawLabelsApart(c: CanvasRenderingContext2D, [x0, y0, x1, y1]: [number, number, number, number]): void {
    const s = this.view.scale;
    const h = 15 / s;
    const pad = 3 / s;
    // The selection first, then the box under the pointer: those two are always named.
    const rank = (id: number) => (id === this.ev.selectedId() ? 2 : id === this.hovered ? 1 : 0);
    const order = [...this.nodes.entries()].sort(([a], [b]) => rank(b) - rank(a));
    const placed: [number, number, number, number][] = [];
    const free = (r: [number, number, number, number]) =>
      !placed.some((q) => r[0] < q[2] && q[0] < r[2] && r[1] < q[3] && q[1] < r[3]);
    for (const [, { rect, label }] of order) {
      if (!label.text) continue;
      const x = rect.x();
      const w = c.measureText(label.text).width + 2 * pad;
      const spots: [number, number, number, number][] = [
        [x, rect.y() - h, x + w, rect.y()],
        [x, rect.y(), x + w, rect.y() + h],
      ];
      // Wholly inside the view vertically: a label cut by the top edge is not readable.
      const spot = spots.find((r) => r[0] < x1 && r[2] > x0 && r[1] >= y0 && r[3] <= y1 && free(r));
      if (!spot) continue;
      placed.push(spot);
      c.fillStyle = 'rgba(0, 0, 0, 0.65)';
      c.fillRect(spot[0], spot[1], w, h);
      c.fillStyle = label.color;
      c.fillText(label.text, spot[0] + pad, spot[3] - 2 / s);
    }
  }

  private hovered: number | null = null;
  private hover(id: number | null): void {
    this.hovered = id;
    this.boxLayer.batchDraw();
  }

  private makeNodes(id: number) {
    const rect = new Konva.Rect({
      name: 'box',
      id: `box-${id}`,
      draggable: this.opts.editable,
      strokeScaleEnabled: false,
    });
    const label = { text: '', color: '' };
    if (this.opts.labelLayout === 'no-overlap') {
      rect.on('mouseenter', () => this.hover(id));
      rect.on('mouseleave', () => this.hover(null));
    }
    rect.on('mousedown', (e) => {
      if (this.spaceHeld) return;
      e.cancelBubble = true;
      this.ev.select(id);
    });
    // Space+drag pans, even when it starts on a box.
    rect.on('dragstart', () => {
      if (this.spaceHeld) rect.stopDrag();
    });
    rect.on('dragend', () => {
      // A box moved past the edge is shifted back inside the image.
      const W = this.size?.width ?? Infinity;
      const H = this.size?.height ?? Infinity;
      const x = Math.min(Math.max(0, rect.x()), Math.max(0, W - rect.width()));
      const y = Math.min(Math.max(0, rect.y()), Math.max(0, H - rect.height()));
      rect.position({ x, y });
      this.ev.moved?.(id, x, y);
    });
    rect.on('transformend', () => {
      // A box resized past the edge is cut at it; one resized to nothing is put back.
      const a = this.clampToImage({ x: rect.x(), y: rect.y() });
      const b = this.clampToImage({
        x: rect.x() + rect.width() * rect.scaleX(),
        y: rect.y() + rect.height() * rect.scaleY(),
      });
      rect.scale({ x: 1, y: 1 });
      if (b.x - a.x < 1 || b.y - a.y < 1) return this.render();
      this.ev.resized?.(id, { x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y });
    });
    this.world.add(rect);
    const n = { rect, label };
    this.nodes.set(id, n);
    return n;
  }

  /** Brings the box nodes in line with the editor's boxes and selection; later boxes stack above earlier ones. */
  render(): void {
    const keep = new Set<number>();
    const selected = this.ev.selectedId();
    const boxes = this.ev.boxes();
    let created = false;
    for (const a of boxes) {
      keep.add(a.id);
      created ||= !this.nodes.has(a.id);
      const { rect, label } = this.nodes.get(a.id) ?? this.makeNodes(a.id);
      rect.setAttrs({
        x: a.x,
        y: a.y,
        width: a.w,
        height: a.h,
        scaleX: 1,
        scaleY: 1,
        stroke: this.ev.colour(a),
        strokeWidth: 2,
        dash: a.review === 'pending' ? [6, 4] : [],
        fill: a.id === selected ? 'rgba(255,255,255,0.08)' : 'rgba(0,0,0,0)',
      });
      label.text = this.ev.label(a);
      label.color = this.ev.colour(a);
    }
    for (const [id, n] of this.nodes) {
      if (keep.has(id)) continue;
      n.rect.destroy();
      this.nodes.delete(id);
    }
    // A new node goes on top; when it belongs below others (a label added under a viewer's predictions), the
    // stack is put back in order, so what is clicked is what is drawn on top.
    if (created) {
      const stacked = this.world.getChildren((n) => n.hasName('box'));
      if (stacked.some((n, i) => n !== this.nodes.get(boxes[i]!.id)?.rect))
        for (const a of boxes) this.nodes.get(a.id)!.rect.moveToTop();
    }
    this.labelShape.moveToTop();
    const sel = selected === null ? null : (this.nodes.get(selected)?.rect ?? null);
    this.transformer.nodes(sel && this.opts.editable ? [sel] : []);
    this.boxLayer.batchDraw();
  }

  // ---- gestures ------------------------------------------------------------------------------------

  private pointerDown(e: Konva.KonvaEventObject<MouseEvent>): void {
    // The canvas is not focusable: without this, a slider clicked earlier would keep the arrow keys.
    (document.activeElement as HTMLElement | null)?.blur();
    const p = this.stage.getPointerPosition()!;
    const onEmpty = e.target.getParent() !== this.transformer && !e.target.hasName('box');
    // In a viewer, a drag on the image pans: there is nothing to draw.
    if (this.spaceHeld || e.evt.button === 1 || (!this.opts.editable && e.evt.button === 0 && onEmpty)) {
      if (!this.opts.editable && e.evt.button === 0) this.ev.select(null);
      this.gesture = { kind: 'panning', from: { x: p.x, y: p.y }, view: { ...this.view } };
      // No hit graph while panning: redrawing it on every move cost a third of each frame.
      this.boxLayer.listening(false);
      return;
    }
    if (e.evt.button !== 0) return;
    if (e.target.getParent() === this.transformer || e.target.hasName('box')) return;
    this.ev.select(null);
    const q = this.pointer()!;
    // A drag that starts outside the image draws nothing.
    if (this.size && (q.x < 0 || q.y < 0 || q.x > this.size.width || q.y > this.size.height)) return;
    const rect = new Konva.Rect({
      x: q.x,
      y: q.y,
      width: 0,
      height: 0,
      stroke: this.ev.drawColour(),
      strokeWidth: 2,
      strokeScaleEnabled: false,
    });
    this.world.add(rect);
    this.gesture = { kind: 'drawing', from: q, rect };
  }

  private pointerMove(): void {
    const p = this.stage.getPointerPosition();
    if (!p) return;
    if (this.opts.editable) {
      this.hGuide.points([0, p.y, this.stage.width(), p.y]);
      this.vGuide.points([p.x, 0, p.x, this.stage.height()]);
      this.guideLayer.batchDraw();
    }
    const g = this.gesture;
    if (g.kind === 'panning') {
      this.view = { ...this.view, x: g.view.x + p.x - g.from.x, y: g.view.y + p.y - g.from.y };
      this.applyView();
    } else if (g.kind === 'drawing') {
      const q = this.clampToImage(this.pointer()!);
      g.rect.position({ x: Math.min(q.x, g.from.x), y: Math.min(q.y, g.from.y) });
      g.rect.size({ width: Math.abs(q.x - g.from.x), height: Math.abs(q.y - g.from.y) });
      this.boxLayer.batchDraw();
    }
  }

  /**
   * Ends a pan or a box being drawn. Called on the stage's mouseup, and on the window's, because a button
   * released outside the canvas (over the sidebar) never reaches Konva: the pan would stay on, with the hit
   * graph off. A second call does nothing.
   */
  endGesture(): void {
    const g = this.gesture;
    this.gesture = { kind: 'idle' };
    if (g.kind === 'panning') {
      this.boxLayer.listening(true);
      this.boxLayer.draw(); // now, not next frame: the hit graph must be current for the very next click
    } else if (g.kind === 'drawing') {
      const r = g.rect;
      const box = { x: r.x(), y: r.y(), w: r.width(), h: r.height() };
      r.destroy();
      this.boxLayer.batchDraw();
      if (box.w >= 2 && box.h >= 2) this.ev.drawn?.(box);
    }
  }

  /** Focus left the window mid-gesture: no button-up will come; space is no longer held either. */
  cancelGesture(): void {
    this.spaceHeld = false;
    if (this.gesture.kind === 'drawing') {
      this.gesture.rect.destroy();
      this.gesture = { kind: 'idle' };
    }
    this.endGesture();
  }

  private wheel(e: Konva.KonvaEventObject<WheelEvent>): void {
    e.evt.preventDefault();
    const p = this.stage.getPointerPosition()!;
    const factor = e.evt.deltaY < 0 ? 1.15 : 1 / 1.15;
    const s = Math.min(40, Math.max(0.05, this.view.scale * factor));
    // Zoom around the cursor: the image point under it stays under it.
    const ix = (p.x - this.view.x) / this.view.scale;
    const iy = (p.y - this.view.y) / this.view.scale;
    this.view = { scale: s, x: p.x - ix * s, y: p.y - iy * s };
    this.applyView();
    this.render();
  }

  destroy(): void {
    this.stage.destroy();
  }
}
