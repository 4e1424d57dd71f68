import type { ProjectSummary } from '../api/contract.js';

/** Human-readable project counts for `starling info`. */
export function printInfo(s: ProjectSummary, out: NodeJS.WritableStream = process.stdout): void {
  const c = s.counts;
  const num = (n: number, w: number) => String(n).padStart(w);
  const lines = [
    `${s.name}  (${s.file})`,
    `images      ${c.images}   train ${c.bySplit.train}   val ${c.bySplit.val}   test ${c.bySplit.test}`,
    `status      unlabeled ${c.byStatus.unlabeled}   labeled ${c.byStatus.labeled}   reviewed ${c.byStatus.reviewed}`,
    `boxes       accepted ${c.annotations.accepted}   pending ${c.annotations.pending}   rejected ${c.annotations.rejected}`,
    '',
    `${'class'.padEnd(20)} ${'accepted'.padStart(9)} ${'pending'.padStart(8)} ${'rejected'.padStart(9)} ${'images'.padStart(7)}   train/val/test boxes`,
  ];
  for (const k of c.perClass) {
    const per = (split: string) =>
      c.perSplitClass?.find((r) => r.split === split && r.classId === k.classId)?.boxes ?? 0;
    lines.push(
      `${k.name.padEnd(20)} ${num(k.accepted, 9)} ${num(k.pending, 8)} ${num(k.rejected, 9)} ${num(k.images, 7)}   ` +
        `${per('train')}/${per('val')}/${per('test')}`,
    );
  }
  out.write(lines.join('\n') + '\n');
}
