/**
 * The annotator's keys, one table: each binding says which keys it takes, what it does, and how the help lists
 * it. Keys skip text fields; other inputs (the score slider, checkboxes) keep the space and arrow keys.
 */
import type { AnnotatorEditor } from './editor.svelte';
import type { AnnotatorScene } from './scene';

export interface KeyContext {
  editor: AnnotatorEditor;
  scene: AnnotatorScene;
  review: boolean;
}

interface Binding {
  /** What the help shows. */
  keys: string;
  does: string | ((review: boolean) => string);
  match(e: KeyboardEvent, ctrl: boolean): boolean;
  run(c: KeyContext, e: KeyboardEvent): void;
  /** Keep the browser's own action (default: prevent it). */
  passThrough?: boolean;
  /** Acts on the selected box: without one the key is left alone. */
  needsSelection?: boolean;
}

const key = (e: KeyboardEvent) => e.key.toLowerCase();

export const BINDINGS: readonly Binding[] = [
  {
    keys: 'Space + drag',
    does: 'pan',
    match: (e) => e.key === ' ',
    run: ({ scene }) => void (scene.spaceHeld = true),
  },
  {
    keys: 'Ctrl+Z / Ctrl+Shift+Z',
    does: 'undo / redo',
    match: (e, ctrl) => ctrl && key(e) === 'z',
    run: ({ editor }, e) => void editor.history(e.shiftKey ? 'redo' : 'undo'),
  },
  {
    keys: 'Ctrl+Y',
    does: 'redo',
    match: (e, ctrl) => ctrl && key(e) === 'y',
    run: ({ editor }) => void editor.history('redo'),
  },
  {
    keys: 'Ctrl+C',
    does: 'copy the selected box, or every accepted box',
    match: (e, ctrl) => ctrl && key(e) === 'c',
    run: ({ editor }) => editor.copy(),
    passThrough: true,
  },
  {
    keys: 'Ctrl+Shift+V',
    does: 'add the boxes of the previous image',
    match: (e, ctrl) => ctrl && e.shiftKey && key(e) === 'v',
    run: ({ editor }) => void editor.copyFromPrevious(),
  },
  {
    keys: 'Ctrl+V',
    does: 'paste',
    match: (e, ctrl) => ctrl && key(e) === 'v',
    run: ({ editor }) => void editor.paste(),
  },
  {
    keys: '1-9',
    does: 'class to draw with (and of the selected box)',
    match: (e, ctrl) => !ctrl && /^[1-9]$/.test(e.key),
    run: ({ editor }, e) => editor.useClass(Number(e.key) - 1),
    passThrough: true,
  },
  {
    keys: 'Delete',
    does: (review) => (review ? 'reject the selected box' : 'delete the selected box (reject a pending one)'),
    match: (e) => e.key === 'Delete' || e.key === 'Backspace',
    run: ({ editor }) => editor.removeSelected(),
    needsSelection: true,
  },
  {
    keys: 'Shift+Enter',
    does: 'accept the shown pending boxes and mark the image done',
    match: (e, ctrl) => e.key === 'Enter' && e.shiftKey && !ctrl,
    run: ({ editor }) => void editor.markDone(true, true),
  },
  {
    keys: 'Ctrl+Enter',
    does: 'mark the image done (what is still pending is rejected)',
    match: (e, ctrl) => e.key === 'Enter' && ctrl,
    run: ({ editor }) => void editor.markDone(true),
  },
  {
    keys: 'Enter',
    does: 'accept the selected pending box, or every shown one',
    match: (e) => e.key === 'Enter',
    run: ({ editor }) => void editor.acceptVisible(),
  },
  {
    keys: 'Arrows (Shift: 10 px)',
    does: 'nudge the selected box',
    match: (e) => e.key.startsWith('Arrow'),
    needsSelection: true,
    run: ({ editor }, e) => {
      const d = e.shiftKey ? 10 : 1;
      editor.nudge(
        e.key === 'ArrowLeft' ? -d : e.key === 'ArrowRight' ? d : 0,
        e.key === 'ArrowUp' ? -d : e.key === 'ArrowDown' ? d : 0,
      );
    },
  },
  {
    keys: 'A / D',
    does: (review) => (review ? 'previous / next image with pending boxes' : 'previous / next image'),
    match: (e, ctrl) => !ctrl && (key(e) === 'a' || key(e) === 'd'),
    run: ({ editor }, e) => void editor.step(key(e) === 'a' ? -1 : 1),
    passThrough: true,
  },
  {
    keys: 'F',
    does: 'fit the image',
    match: (e, ctrl) => !ctrl && key(e) === 'f',
    run: ({ scene }) => scene.fit(),
    passThrough: true,
  },
  {
    keys: 'Escape',
    does: 'clear the selection',
    match: (e) => e.key === 'Escape',
    run: ({ editor }) => editor.select(null),
    passThrough: true,
  },
];

const TEXT_INPUTS = new Set(['text', 'search', 'number', 'email', 'password', 'url', 'tel']);

/** A field the user is typing in: every key is theirs. */
function typesText(el: HTMLElement): boolean {
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable) return true;
  return el.tagName === 'INPUT' && TEXT_INPUTS.has((el as HTMLInputElement).type);
}

export function handleKeyDown(e: KeyboardEvent, c: KeyContext): void {
  const target = e.target as HTMLElement;
  if (typesText(target)) return;
  // Other inputs (the score slider, checkboxes) keep the keys they use themselves; a click on the canvas takes
  // the focus back from them.
  if (target.tagName === 'INPUT' && (e.key === ' ' || e.key.startsWith('Arrow'))) return;
  const ctrl = e.ctrlKey || e.metaKey;
  const b = BINDINGS.find((x) => x.match(e, ctrl) && (!x.needsSelection || c.editor.selected));
  if (!b) return;
  if (!b.passThrough) e.preventDefault();
  b.run(c, e);
}

export function handleKeyUp(e: KeyboardEvent, c: KeyContext): void {
  if (e.key === ' ') c.scene.spaceHeld = false;
}

/** The shortcut help, one line per binding. */
export const shortcutHelp = (review: boolean) =>
  BINDINGS.map((b) => ({ keys: b.keys, does: typeof b.does === 'function' ? b.does(review) : b.does }));
