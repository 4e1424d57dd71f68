import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, that CI can read, preceded by the name of
 * every test that did not pass and every file that did not finish (a worker that died mid-file leaves its tests
 * pending, and vitest's own error for it names no file).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const lines: string[] = [];
    for (const m of modules) {
      const tests = [...m.children.allTests()];
      for (const t of tests) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
        if (state !== 'passed') lines.push(`  ${state}: ${m.moduleId} > ${t.fullName}`);
      }
      if (m.state() === 'failed' && !tests.length) failed++; // a suite that failed to load
      if (m.state() !== 'passed' && m.state() !== 'skipped') lines.push(`  file ${m.state()}: ${m.moduleId}`);
    }
    if (lines.length) process.stdout.write(`\nnot passed:\n${lines.join('\n')}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
