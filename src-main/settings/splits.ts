/** A project's image splits: what images are stored under (store/), and what a run trains and validates on. */
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];
