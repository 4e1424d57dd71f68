/**
 * In-app confirmations (instead of the browser's `confirm()`): a question, an optional check box for a choice
 * that goes with it, and the two buttons. `ask` resolves when the user answers; components/Dialog.svelte draws it.
 */
export interface Question {
  title: string;
  body?: string;
  /** A choice offered with the question (a check box), and its starting state. */
  option?: { label: string; checked: boolean };
  ok?: string;
  cancel?: string;
}

export interface Answer {
  ok: boolean;
  /** The check box, when there was one. */
  checked: boolean;
}

class Dialogs {
  current = $state<(Question & { resolve: (a: Answer) => void }) | null>(null);

  ask(q: Question): Promise<Answer> {
    // One at a time: a question asked while another is open answers that one "cancel".
    this.current?.resolve({ ok: false, checked: false });
    return new Promise((resolve) => (this.current = { ...q, resolve }));
  }

  answer(a: Answer): void {
    const c = this.current;
    this.current = null;
    c?.resolve(a);
  }
}

export const dialogs = new Dialogs();
