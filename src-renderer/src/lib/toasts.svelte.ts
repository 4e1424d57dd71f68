/**
 * Short messages that float over the view (components/Toasts.svelte) instead of pushing its content, and expire;
 * one may carry an action (Undo). A newer toast with the same `key` replaces the older one.
 */
export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
  action?: { label: string; run: () => void | Promise<void> };
  /** Test id of the toast (and `<testid>-action` of its button). */
  testid?: string;
  key?: string;
}

let next = 1;

class Toasts {
  list = $state<Toast[]>([]);
  /** Each toast's expiry timer and its life, so a pointer over it holds it (to read it, or reach its Undo). */
  private readonly timers = new Map<number, { timer: ReturnType<typeof setTimeout>; ms: number }>();

  show(t: Omit<Toast, 'id' | 'kind'> & { kind?: Toast['kind']; ms?: number }): number {
    const id = next++;
    const toast: Toast = { kind: 'info', ...t, id };
    this.list = [...this.list.filter((x) => !t.key || x.key !== t.key), toast].slice(-4);
    this.arm(id, t.ms ?? (t.action ? 12000 : t.kind === 'error' ? 10000 : 5000));
    return id;
  }

  /** The pointer is over the toast: it stays until the pointer leaves. */
  hold(id: number): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t.timer);
  }

  /** The pointer left: the toast lives its whole life again from now. */
  release(id: number): void {
    const t = this.timers.get(id);
    if (t) this.arm(id, t.ms);
  }

  dismiss(id: number): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t.timer);
    this.timers.delete(id);
    this.list = this.list.filter((x) => x.id !== id);
  }

  private arm(id: number, ms: number): void {
    this.timers.set(id, { timer: setTimeout(() => this.dismiss(id), ms), ms });
  }
}

export const toasts = new Toasts();
