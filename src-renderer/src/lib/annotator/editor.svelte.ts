/**
 * The annotator's editor state, apart from rendering (as tldraw keeps its editor apart from its canvas): the
 * image shown and its boxes, the selection and the current class, what is hidden, the edit queue with undo and
 * redo through the store's history, the walk to the previous/next image (the gallery's filtered list, or the
 * review queue), review decisions and the box clipboard. It talks to the backend through the typed API it is
 * given and never touches Konva, so it is unit-tested against a real project without a browser
 * (tests/unit/annotator-editor.test.ts). The scene (scene.ts) draws it; the keymap (keymap.ts) drives it.
 */
import type { ApiInput, ApiMethod, ApiOutput, ImageDetail } from '../../../../src-main/api/contract';
import type { ImageFilter } from '../../../../src-main/store/images';
import type { AnnotationRecord, ClassRecord } from '../../../../src-main/store/types';

/** The API the editor needs: the renderer's typed client, or an in-process call in tests. */
export interface Backend {
  call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>>;
}

export type EditOp = ApiInput<'annotations.edit'>['ops'][number];
export type BoxGeometry = { x: number; y: number; w: number; h: number };

export interface EditorOptions {
  backend: Backend;
  /** The review queue (pending boxes, going round) rather than the annotator's walk. */
  review: boolean;
  /** The project's classes, in order (hotkeys 1-9 follow it). */
  classes: () => ClassRecord[];
  /** The filter the annotator's A/D walk (the gallery's). */
  walkFilter: () => ImageFilter;
  /** Opens another image (the route changes). */
  go: (imageId: number) => void;
  /** Asks the user (a bulk decision), with a choice that goes with it. */
  ask: (q: { title: string; body: string; option: { label: string; checked: boolean }; ok: string }) => Promise<{
    ok: boolean;
    checked: boolean;
  }>;
  /** Starts fetching a neighbour's pixels. */
  prefetchImage?: (imageId: number) => void;
  /** The state changed in a way the scene must redraw. */
  changed?: () => void;
  /** Shows a message to the user (the app's toasts). */
  notify?: (text: string, kind: 'info' | 'error') => void;
}

interface Walk {
  id: number;
  prev: number | null;
  next: number | null;
}

export class AnnotatorEditor {
  detail = $state<ImageDetail | null>(null);
  /** Why the image cannot be shown (its boxes still are), or why opening failed. */
  error = $state<string | null>(null);
  selectedId = $state<number | null>(null);
  currentClass = $state<number | null>(null);
  /** Classes hidden by their toggle. */
  hidden = $state<Record<number, boolean>>({});
  /** Pending boxes below this score are hidden. */
  minScore = $state(0.25);
  /** The last message said (each also goes to `notify`, as a toast in the app). */
  status = $state('');
  /** Whether the edits are saved: a quiet line, not a message per save. */
  saveState = $state<'' | 'saved' | 'failed'>('');
  /** The image shown before the last A/D: the review queue may have moved past it (its boxes all decided). */
  lastImage = $state<number | null>(null);

  private queue: Promise<void> = Promise.resolve();
  private opening = 0;
  /** The shown image's neighbours, kept from its prefetch so A/D go straight on (not the review walk). */
  private walk: Walk | null = null;
  /** Bumped when the walk is dropped: a prefetch that started before must not put its stale answer back. */
  private walkEpoch = 0;
  private clipboard: (BoxGeometry & { classId: number })[] = [];

  constructor(private readonly o: EditorOptions) {}

  /** Tells the user something: a failure (`error`) or the outcome of an action. */
  say(text: string, kind: 'info' | 'error' = 'info'): void {
    this.status = text;
    this.o.notify?.(text, kind);
  }

  // ---- what is shown -------------------------------------------------------------------------------

  get classById(): Map<number, ClassRecord> {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- built per read, never changed
    return new Map(this.o.classes().map((c) => [c.id, c]));
  }

  /** The boxes drawn: not rejected, class not hidden, pending ones at or above the score slider. */
  get visible(): AnnotationRecord[] {
    return (this.detail?.annotations ?? []).filter(
      (a) =>
        a.review !== 'rejected' &&
        !this.hidden[a.classId] &&
        !(a.review === 'pending' && (a.score ?? 1) < this.minScore),
    );
  }

  get pendingCount(): number {
    return (this.detail?.annotations ?? []).filter((a) => a.review === 'pending').length;
  }

  /** The selection, if it is drawn: keys act on what is drawn. */
  get selected(): AnnotationRecord | null {
    return this.visible.find((a) => a.id === this.selectedId) ?? null;
  }

  select(id: number | null): void {
    this.selectedId = id;
    const a = this.detail?.annotations.find((x) => x.id === id);
    if (a && a.review !== 'pending') this.currentClass = a.classId;
    this.o.changed?.();
  }

  // ---- opening and walking -------------------------------------------------------------------------

  /**
   * Opens an image with its pixels (loading meanwhile). Resolves with the pixels once shown, or `dropped` when a
   * later open overtook it (A then D quickly). An image whose pixels fail still opens with its boxes and a
   * message naming the file: the walk must not stop at a bad file.
   */
  async open<T>(id: number, pixels: Promise<T>): Promise<{ dropped: true } | { dropped: false; pixels: T | null }> {
    const token = ++this.opening;
    const settled = pixels.then(
      (img) => ({ img, failure: null }),
      (e: unknown) => ({ img: null, failure: e as Error }),
    );
    let d: ImageDetail;
    try {
      d = await this.o.backend.call('images.get', { id });
    } catch (e) {
      if (token === this.opening) this.error = (e as Error).message;
      return { dropped: true };
    }
    const { img, failure } = await settled;
    if (token !== this.opening) return { dropped: true };
    this.error = failure ? `${d.image.path}: the image cannot be shown (${failure.message})` : null;
    this.detail = d;
    this.selectedId = null;
    void this.prefetch(id).catch(() => {});
    return { dropped: false, pixels: img };
  }

  private async neighbours(id: number): Promise<{ prev: number | null; next: number | null }> {
    // The review queue: images with pending boxes, in gallery order, going round; the shown image may have left
    // it (its last pending box was just decided), and the walk goes on from where it was.
    // At the slider's threshold: an image whose pending boxes all score below it is not in the queue.
    const n = this.o.review
      ? await this.o.backend.call('images.neighbors', {
          id,
          filter: { status: 'pending', ...(this.minScore > 0 ? { pendingMinScore: this.minScore } : {}) },
          wrap: true,
        })
      : await this.o.backend.call('images.neighbors', { id, filter: this.o.walkFilter() });
    return { prev: n.prev, next: n.next };
  }

  private async prefetch(id: number): Promise<void> {
    const epoch = this.walkEpoch;
    const n = await this.neighbours(id);
    // Accepting or rejecting boxes changes the review walk: it is asked again each time.
    if (!this.o.review && epoch === this.walkEpoch) this.walk = { id, ...n };
    for (const k of [n.prev, n.next]) if (k !== null) this.o.prefetchImage?.(k);
  }

  /** Images or labels changed: the walk is asked again. */
  dropWalk(): void {
    this.walk = null;
    this.walkEpoch++;
  }

  async step(dir: -1 | 1): Promise<void> {
    const d = this.detail;
    if (!d) return;
    const n = !this.o.review && this.walk?.id === d.image.id ? this.walk : await this.neighbours(d.image.id);
    const target = dir < 0 ? n.prev : n.next;
    if (target === null) {
      this.say(
        this.o.review ? `No other image has pending boxes scoring ≥ ${this.minScore.toFixed(2)}.` : 'No more images.',
      );
      return;
    }
    this.lastImage = d.image.id;
    this.o.go(target);
  }

  // ---- edits ---------------------------------------------------------------------------------------

  private stillShown = (imageId: number) => this.detail?.image.id === imageId;

  /**
   * Queues a request for the image shown now. Edits run one after another, each starting from the saved state;
   * an edit belongs to the image it was made on even if A/D switch before it runs (a nudge just before D is
   * saved, not lost), and the view takes its answer only while that image is shown. A failed request says so
   * and the queue goes on.
   */
  private enqueue(work: (imageId: number) => Promise<void>): Promise<void> {
    const imageId = this.detail?.image.id;
    if (imageId === undefined) return this.queue;
    this.queue = this.queue
      .then(() => work(imageId))
      .catch((e: unknown) => {
        this.saveState = 'failed';
        this.say(`Not saved: ${(e as Error).message}`, 'error');
      });
    return this.queue;
  }

  /** Saves an edit (`ops` may be computed when its turn comes, from the saved state). */
  save(ops: EditOp[] | (() => EditOp[]), label: string): Promise<void> {
    return this.enqueue(async (imageId) => {
      // Ops computed from the current state (nudges) only make sense on the image they were made on.
      if (typeof ops === 'function' && !this.stillShown(imageId)) return;
      const list = typeof ops === 'function' ? ops() : ops;
      if (!list.length) return;
      const r = await this.o.backend.call('annotations.edit', { imageId, ops: list, label });
      if (!this.stillShown(imageId) || !this.detail) return void (this.saveState = 'saved');
      this.detail = { ...this.detail, annotations: r.annotations, canUndo: r.canUndo, canRedo: r.canRedo };
      if (r.created.length) this.selectedId = r.created.at(-1)!;
      this.saveState = 'saved';
    }).finally(() => this.o.changed?.()); // also after a failure: a box dragged but not saved goes back
  }

  history(kind: 'undo' | 'redo'): Promise<void> {
    return this.enqueue(async (imageId) => {
      const r = await this.o.backend.call(kind === 'undo' ? 'annotations.undo' : 'annotations.redo', { imageId });
      if (!this.stillShown(imageId) || !this.detail) return;
      this.detail = { ...this.detail, annotations: r.annotations, canUndo: r.canUndo, canRedo: r.canRedo };
      if (!r.annotations.some((a) => a.id === this.selectedId)) this.selectedId = null;
      this.say(r.changed ? (kind === 'undo' ? 'Undone' : 'Redone') : `Nothing to ${kind}`);
      this.o.changed?.();
    });
  }

  /** A box drawn on the canvas, in the current class. */
  create(box: BoxGeometry): Promise<void> {
    if (this.currentClass === null) {
      this.say('Create or pick a class first (1-9 or the list).');
      return Promise.resolve();
    }
    return this.save([{ op: 'create', classId: this.currentClass, ...box }], 'draw');
  }

  move(id: number, x: number, y: number): Promise<void> {
    return this.save([{ op: 'update', id, x, y }], 'move');
  }

  resize(id: number, box: BoxGeometry): Promise<void> {
    return this.save([{ op: 'update', id, ...box }], 'resize');
  }

  /** Moves the selection by (dx, dy) from wherever its saved position is when the nudge runs. */
  nudge(dx: number, dy: number): void {
    const sel = this.selected;
    if (!sel) return;
    void this.save(() => {
      const cur = this.detail?.annotations.find((a) => a.id === sel.id);
      return cur ? [{ op: 'update', id: cur.id, x: cur.x + dx, y: cur.y + dy }] : [];
    }, 'nudge');
  }

  /** Hotkey 1-9: the class to draw with, and the selection's class. */
  useClass(index: number): void {
    const c = this.o.classes()[index];
    if (!c) return;
    this.currentClass = c.id;
    const sel = this.selected;
    if (sel && sel.classId !== c.id) void this.save([{ op: 'update', id: sel.id, classId: c.id }], 'class');
  }

  /** Delete: rejects a pending box, deletes any other. */
  removeSelected(): void {
    const sel = this.selected;
    if (!sel) return;
    if (sel.review === 'pending') void this.setReview([sel.id], 'rejected');
    else void this.save([{ op: 'delete', id: sel.id }], 'delete');
    this.selectedId = null;
  }

  // ---- review --------------------------------------------------------------------------------------

  async setReview(ids: number[], state: 'accepted' | 'rejected'): Promise<void> {
    if (!ids.length) return;
    await this.save(
      ids.map((id) => ({ op: 'update' as const, id, review: state })),
      state === 'accepted' ? 'accept' : 'reject',
    );
  }

  /** Rejects the selected pending box, or every visible pending box on the image. */
  rejectVisible(): Promise<void> {
    const sel = this.selected;
    const ids =
      sel?.review === 'pending' ? [sel.id] : this.visible.filter((a) => a.review === 'pending').map((a) => a.id);
    return this.setReview(ids, 'rejected');
  }

  /** Puts a rejected box back to pending (a teacher's) or accepted (anyone else's), as one undoable edit. */
  restore(id: number): Promise<void> {
    const a = this.detail?.annotations.find((x) => x.id === id);
    if (!a || a.review !== 'rejected') return Promise.resolve();
    const review = a.source.startsWith('teacher:') ? 'pending' : 'accepted';
    return this.save([{ op: 'update', id, review }], 'restore');
  }

  get rejected(): AnnotationRecord[] {
    return (this.detail?.annotations ?? []).filter((a) => a.review === 'rejected');
  }

  /** Enter: accepts the selected pending box, or every visible pending box on the image. */
  acceptVisible(): Promise<void> {
    const sel = this.selected;
    const ids =
      sel?.review === 'pending' ? [sel.id] : this.visible.filter((a) => a.review === 'pending').map((a) => a.id);
    return this.setReview(ids, 'accepted');
  }

  /**
   * Accepts a class's pending boxes at or above the slider across the project: it asks first, with the count, and
   * whether the images this leaves with nothing pending are done (the user's choice; off by default).
   */
  async acceptClassAbove(classId: number): Promise<void> {
    const what = `pending ${this.classById.get(classId)?.name ?? '?'} box(es) scoring ≥ ${this.minScore.toFixed(2)}`;
    try {
      const filter = { state: 'accepted' as const, classId, minScore: this.minScore };
      const { changed: n } = await this.o.backend.call('review.set', { ...filter, dryRun: true });
      if (!n) return void this.say(`No ${what} in the project.`);
      const answer = await this.o.ask({
        title: `Accept ${n} ${what} on every image of the project?`,
        body: 'Ctrl+Z does not undo a bulk accept; Reopen (this class, at this score) puts the boxes back to pending.',
        option: { label: 'Also mark done the images this leaves with nothing pending', checked: false },
        ok: `Accept ${n}`,
      });
      if (!answer.ok) return;
      const r = await this.o.backend.call('review.set', { ...filter, done: answer.checked });
      this.say(`Accepted ${r.changed} ${what}${answer.checked ? `; ${r.doneImages} image(s) marked done` : ''}`);
      this.dropWalk();
      await this.reload();
    } catch (e) {
      this.say(`Not accepted: ${(e as Error).message}`, 'error');
    }
  }

  /** Puts this class's decided teacher boxes at or above the slider back to pending, across the project. */
  async reopenClassAbove(classId: number): Promise<void> {
    const what = `${this.classById.get(classId)?.name ?? '?'} box(es) scoring ≥ ${this.minScore.toFixed(2)}`;
    try {
      const r = await this.o.backend.call('review.set', { state: 'pending', classId, minScore: this.minScore });
      this.say(`Reopened ${r.changed} decided ${what}`);
      this.dropWalk();
      await this.reload();
    } catch (e) {
      this.say(`Not reopened: ${(e as Error).message}`, 'error');
    }
  }

  /** The shown image again from the store (after a decision that touched it from elsewhere). */
  private async reload(): Promise<void> {
    if (!this.detail) return;
    const d = await this.o.backend.call('images.get', { id: this.detail.image.id });
    if (this.stillShown(d.image.id)) this.detail = d;
    this.o.changed?.();
  }

  /**
   * Marks the shown image done (its labels are complete; what is still pending on it is rejected), or reopens it.
   * With `acceptShown`, the pending boxes shown (at or above the slider) are accepted first. In the review queue
   * the next image with pending boxes opens.
   */
  async markDone(done = true, acceptShown = false): Promise<void> {
    if (!this.detail) return;
    if (acceptShown)
      await this.setReview(
        this.visible.filter((a) => a.review === 'pending').map((a) => a.id),
        'accepted',
      );
    let said = '';
    await this.enqueue(async (imageId) => {
      const r = await this.o.backend.call('images.markDone', { ids: [imageId], done });
      said = done
        ? `Done${r.rejected ? `: ${r.rejected} pending box(es) rejected` : ''}`
        : 'Reopened: not done, it does not train until marked done again';
      this.say(said);
      await this.reload();
    });
    if (done && this.o.review && said) {
      await this.step(1);
      if (this.status !== said) this.say(`${said}. ${this.status}`);
    }
  }

  /** Whether the shown image is done: marked done, and nothing on it waits for review again. */
  get done(): boolean {
    return !!this.detail && this.detail.image.status !== 'unlabeled' && this.pendingCount === 0;
  }

  // ---- clipboard -----------------------------------------------------------------------------------

  /** A box clipped to the current image (images in a folder may differ in size). */
  private fitted(b: BoxGeometry & { classId: number }) {
    const W = this.detail?.image.width ?? Infinity;
    const H = this.detail?.image.height ?? Infinity;
    const x = Math.min(Math.max(0, b.x), W - 1);
    const y = Math.min(Math.max(0, b.y), H - 1);
    return { classId: b.classId, x, y, w: Math.min(b.w, W - x), h: Math.min(b.h, H - y) };
  }

  /** Ctrl+C: the selected box, or every accepted box on the image. */
  copy(): void {
    const sel = this.selected;
    const boxes = sel ? [sel] : (this.detail?.annotations ?? []).filter((a) => a.review === 'accepted');
    this.clipboard = boxes.map((a) => ({ classId: a.classId, x: a.x, y: a.y, w: a.w, h: a.h }));
    this.say(`Copied ${this.clipboard.length} box(es)`);
  }

  paste(): Promise<void> {
    return this.save(
      this.clipboard.map((b) => ({ op: 'create' as const, ...this.fitted(b) })),
      'paste',
    );
  }

  /** The accepted boxes of the previous image in the walk, added to this one (tracking-style labeling). */
  async copyFromPrevious(): Promise<void> {
    if (!this.detail) return;
    const n = await this.o.backend.call('images.neighbors', { id: this.detail.image.id, filter: {} });
    if (n.prev === null) return void this.say('No previous image.');
    const prev = await this.o.backend.call('images.get', { id: n.prev });
    const boxes = prev.annotations.filter((a) => a.review === 'accepted');
    await this.save(
      boxes.map((a) => ({ op: 'create' as const, ...this.fitted(a) })),
      'copy from previous',
    );
    this.say(`Copied ${boxes.length} box(es) from the previous image`);
  }
}
