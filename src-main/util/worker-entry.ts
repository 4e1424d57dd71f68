/**
 * Starts an entry of this codebase off the main thread, from source or from the bundle:
 *   - from source (the CLI and tests run TypeScript through tsx): `<name>.ts` beside the calling module, started
 *     through ts-worker-boot.mjs, because workers and child processes do not inherit the main thread's module
 *     hooks;
 *   - in the bundled Electron main: `<name>.js`, which electron-vite emits as its own entry in out/main, where
 *     every chunk of the main bundle lives (see electron.vite.config.ts).
 * `startWorker` starts it as a worker thread (the training loader: batches cross as transferred buffers);
 * `startChild` as a child process (the onnxruntime jobs: a native abort or an out-of-memory kill there must not
 * take the app down with it). Both return null when neither entry exists; the caller then works in-thread.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

const exists = (u: URL) => u.protocol === 'file:' && fs.existsSync(fileURLToPath(u));

/** The entry to start: a TypeScript source through the boot file, or the bundled script itself. */
function locate(callerUrl: string, name: string): { script: URL; entry?: string } | null {
  const source = new URL(`./${name}.ts`, callerUrl);
  if (exists(source) && exists(BOOT)) return { script: BOOT, entry: source.href };
  const bundled = new URL(`./${name}.js`, callerUrl);
  return exists(bundled) ? { script: bundled } : null;
}

export function startWorker(callerUrl: string, name: string, workerData: Record<string, unknown>): Worker | null {
  const found = locate(callerUrl, name);
  if (!found) return null;
  return new Worker(found.script, { workerData: found.entry ? { ...workerData, __entry: found.entry } : workerData });
}

/**
 * A child process with an IPC channel (structured-clone serialization, like a worker's messages); its output
 * goes to this process's. It runs on plain Node: in Electron, the app's own binary as Node
 * (ELECTRON_RUN_AS_NODE). No inherited exec flags: an inspector port or a test runner's loader would clash.
 */
export function startChild(callerUrl: string, name: string): ChildProcess | null {
  const found = locate(callerUrl, name);
  if (!found) return null;
  return fork(fileURLToPath(found.script), found.entry ? [found.entry] : [], {
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) },
  });
}
