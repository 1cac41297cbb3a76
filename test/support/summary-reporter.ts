/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary,
 * plus the names of suites that were skipped, so a skipped suite never reads like a pass.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedSuites = new Set<string>();
    for (const mod of testModules) {
      let failedHere = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else {
          skipped++;
          const suite = test.parent.type === 'suite' ? test.parent.fullName : mod.moduleId;
          skippedSuites.add(suite);
        }
      }
      // A hook or import that failed leaves its tests "skipped": count it as a failure, never a skip.
      failed += failedHere > 0 ? failedHere : mod.state() === 'failed' ? 1 : 0;
    }
    for (const suite of skippedSuites) process.stdout.write(`skipped suite: ${suite}\n`);
    process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
