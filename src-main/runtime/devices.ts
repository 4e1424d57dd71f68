/** The execution providers a run can ask for ('auto' picks the best one this install has). */
export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
