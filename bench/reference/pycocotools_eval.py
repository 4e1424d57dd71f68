"""Times pycocotools' COCOeval (bbox) on a gt/dt pair and prints its stats and the time, as JSON.

usage: PYTHONPATH=<pycocotools> /usr/bin/python3 pycocotools_eval.py GT.json DT.json
"""
import contextlib, io, json, sys, time
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

gt, dt = sys.argv[1], sys.argv[2]
with contextlib.redirect_stdout(io.StringIO()):
    t0 = time.perf_counter()
    cg = COCO(gt)
    cd = cg.loadRes(dt)
    t1 = time.perf_counter()
    ev = COCOeval(cg, cd, 'bbox')
    ev.evaluate(); ev.accumulate(); ev.summarize()
    t2 = time.perf_counter()
print(json.dumps({'stats': ev.stats.tolist(), 'load_s': t1 - t0, 'eval_s': t2 - t1}))
