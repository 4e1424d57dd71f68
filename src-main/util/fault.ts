/**
 * Fault points for the crash tests (tests/integration/faults.test.ts): with STARLING_FAULT_PAUSE=<name>, the
 * process stops at that point of a real write, says so in the file STARLING_FAULT_MARK, and waits there, so a
 * test can kill -9 it in the middle of the write; STARLING_FAULT_SKIP=<n> lets the first n passes through (the
 * second checkpoint, not the first). Without the variables this is one comparison.
 */
import fs from 'node:fs';

let passes = 0;

export function faultPoint(name: string): void {
  if (process.env.STARLING_FAULT_PAUSE !== name) return;
  if (passes++ < Number(process.env.STARLING_FAULT_SKIP ?? 0)) return;
  if (process.env.STARLING_FAULT_MARK) fs.writeFileSync(process.env.STARLING_FAULT_MARK, name);
  // Block this thread as a long write would (the test kills the process meanwhile).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
