/**
 * Evaluator benchmark (issue "one-click training"): `cocoEvaluate` against pycocotools' COCOeval on the same
 * 5,000-image detection file, in the same run. pycocotools is the reference and is not part of Starling:
 * point PYCOCOTOOLS_PATH at a pycocotools install (e.g. a built cocoapi/PythonAPI folder).
 *
 *   PYCOCOTOOLS_PATH=/path/to/cocoapi/PythonAPI npm run bench:eval
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cocoEvaluate, type CocoDet, type CocoGt } from '../src-main/eval/coco-eval.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, '.data', 'coco5k');
const PY = '/usr/bin/python3';
const env = { ...process.env, PYTHONPATH: process.env.PYCOCOTOOLS_PATH ?? '' };

fs.mkdirSync(DATA, { recursive: true });
if (!fs.existsSync(path.join(DATA, 'expected.json'))) {
  // The fixture generator makes the pair (and pycocotools' stats) deterministically.
  execFileSync(PY, [path.resolve(HERE, '../tests/fixtures/coco/make_fixture.py'), '5000', DATA], {
    env,
    stdio: 'inherit',
  });
}
const t0 = performance.now();
const gt = JSON.parse(fs.readFileSync(path.join(DATA, 'gt.json'), 'utf8')) as CocoGt;
const dt = JSON.parse(fs.readFileSync(path.join(DATA, 'dt.json'), 'utf8')) as CocoDet[];
const t1 = performance.now();
const r = cocoEvaluate(gt, dt);
const t2 = performance.now();
const ref = JSON.parse(
  execFileSync(
    PY,
    [path.join(HERE, 'reference', 'pycocotools_eval.py'), path.join(DATA, 'gt.json'), path.join(DATA, 'dt.json')],
    { env, encoding: 'utf8' },
  ),
) as {
  stats: number[];
  load_s: number;
  eval_s: number;
};
const maxDiff = Math.max(...r.stats.map((v, i) => Math.abs(v - ref.stats[i]!)));
console.log(
  `evaluator benchmark: ${gt.images.length} images, ${gt.annotations.length} ground-truth boxes, ${dt.length} detections`,
);
console.log('| | load s | evaluate s | total s |');
console.log('|---|---|---|---|');
console.log(
  `| Starling cocoEvaluate | ${((t1 - t0) / 1e3).toFixed(2)} | ${((t2 - t1) / 1e3).toFixed(2)} | ${((t2 - t0) / 1e3).toFixed(2)} |`,
);
console.log(
  `| pycocotools COCOeval | ${ref.load_s.toFixed(2)} | ${ref.eval_s.toFixed(2)} | ${(ref.load_s + ref.eval_s).toFixed(2)} |`,
);
console.log(
  `evaluate time ratio (Starling / pycocotools): ${((t2 - t1) / 1e3 / ref.eval_s).toFixed(3)}x; largest difference over the 12 stats: ${maxDiff.toExponential(1)}`,
);
