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

  show(t: Omit<Toast, 'id' | 'kind'> & { kind?: Toast['kind']; ms?: number }): number {
    const id = next++;
    const toast: Toast = { kind: 'info', ...t, id };
    this.list = [...this.list.filter((x) => !t.key || x.key !== t.key), toast].slice(-4);
    const ms = t.ms ?? (t.action ? 12000 : t.kind === 'error' ? 10000 : 5000);
    setTimeout(() => this.dismiss(id), ms);
    return id;
  }

  dismiss(id: number): void {
    this.list = this.list.filter((x) => x.id !== id);
  }
}

export const toasts = new Toasts();
