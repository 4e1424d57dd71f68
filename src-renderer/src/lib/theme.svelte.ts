/** The colour theme: dark (default) or light, kept in localStorage and set on <html data-theme>. */
type Theme = 'dark' | 'light';
const KEY = 'starling.theme';

class ThemeState {
  current = $state<Theme>('dark');

  constructor() {
    const saved = globalThis.localStorage?.getItem(KEY);
    this.set(saved === 'light' ? 'light' : 'dark');
  }

  set(t: Theme): void {
    this.current = t;
    globalThis.document?.documentElement.setAttribute('data-theme', t);
    globalThis.localStorage?.setItem(KEY, t);
  }

  toggle(): void {
    this.set(this.current === 'dark' ? 'light' : 'dark');
  }
}

export const theme = new ThemeState();
