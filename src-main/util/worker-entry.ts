/**
 * Starts a worker-thread entry of this codebase, from source or from the bundle:
 *   - from source (the CLI and tests run TypeScript through tsx): `<name>.ts` beside the calling module, started
 *     through ts-worker-boot.mjs, because workers do not inherit the main thread's module hooks;
 *   - in the bundled Electron main: `<name>.js`, which electron-vite emits as its own entry in out/main, where
 *     every chunk of the main bundle lives (see electron.vite.config.ts).
 * Returns null when neither exists; the caller then does the work in-thread.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

const exists = (u: URL) => u.protocol === 'file:' && fs.existsSync(fileURLToPath(u));

export function startWorker(callerUrl: string, name: string, workerData: Record<string, unknown>): Worker | null {
  const source = new URL(`./${name}.ts`, callerUrl);
  if (exists(source) && exists(BOOT)) return new Worker(BOOT, { workerData: { ...workerData, __entry: source.href } });
  const bundled = new URL(`./${name}.js`, callerUrl);
  if (exists(bundled)) return new Worker(bundled, { workerData });
  return null;
}
