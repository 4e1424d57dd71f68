import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line that CI can read, `tests: N passed, N failed, N skipped`, preceded by every test
 * that failed or never finished, every file that did not pass, and every unhandled error. A worker that dies
 * mid-file leaves its tests pending, and vitest's own error for it names no file; a worker that dies after its
 * last test leaves only the unhandled error.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    let [passed, failed, skipped, unfinished] = [0, 0, 0, 0];
    const lines: string[] = [];
    for (const m of modules) {
      const tests = [...m.children.allTests()];
      for (const t of tests) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'skipped') skipped++;
        else {
          failed++; // failed, or never finished: a test whose worker died counts against the run
          if (state === 'pending') unfinished++;
        }
        if (state === 'failed' || state === 'pending') lines.push(`  ${state}: ${m.moduleId} > ${t.fullName}`);
      }
      if (m.state() === 'failed' && !tests.length) failed++; // a suite that failed to load
      if (m.state() !== 'passed' && m.state() !== 'skipped') lines.push(`  file ${m.state()}: ${m.moduleId}`);
    }
    for (const e of unhandledErrors) lines.push(`  unhandled error: ${e.name ?? 'Error'}: ${e.message ?? ''}`);
    if (unfinished) lines.push(`  ${unfinished} tests never finished (counted as failed)`);
    if (lines.length) process.stdout.write(`\nnot passed:\n${lines.join('\n')}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
