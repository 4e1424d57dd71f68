/**
 * The keyboard shortcuts of the view on screen, for the `?` overlay (components/ShortcutHelp.svelte): each view
 * says its own when it mounts (`useShortcuts`), the shell adds the Alt+letter view keys.
 */
import { onDestroy } from 'svelte';

export interface Shortcut {
  keys: string;
  does: string;
}

class Shortcuts {
  view = $state<{ title: string; list: Shortcut[] } | null>(null);
  open = $state(false);
}

export const shortcuts = new Shortcuts();

/** Call from a view's script: its shortcuts are listed while it is mounted (a getter follows its state). */
export function useShortcuts(title: string, list: () => Shortcut[]): void {
  const entry = {
    title,
    get list() {
      return list();
    },
  };
  shortcuts.view = entry;
  onDestroy(() => {
    if (shortcuts.view === entry) shortcuts.view = null;
  });
}
