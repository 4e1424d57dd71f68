import type { ProjectStore } from '../store/project.js';
import type { Dataset, DatasetBox, DatasetImage } from './dataset.js';

/**
 * The project's labels as a neutral Dataset for export: accepted boxes only (pending pseudo-labels
 * and rejected boxes are not labels yet). Images the user has not labeled are marked `labeled: false`.
 */
export function datasetFromProject(store: ProjectStore): Dataset {
  const classes = store.classes.list();
  const indexOf = new Map(classes.map((c, i) => [c.id, i]));
  const boxes = new Map<number, DatasetBox[]>();
  for (const a of store.annotations.iterate(['accepted'])) {
    const list = boxes.get(a.imageId) ?? [];
    list.push({ classIndex: indexOf.get(a.classId)!, x: a.x, y: a.y, w: a.w, h: a.h });
    boxes.set(a.imageId, list);
  }
  const images: DatasetImage[] = [];
  const total = store.images.count();
  for (let offset = 0; offset < total; offset += 5000) {
    for (const im of store.images.list({}, offset, 5000)) {
      images.push({
        file: store.absolutePath(im.path),
        split: im.split,
        width: im.width,
        height: im.height,
        labeled: im.status !== 'unlabeled',
        boxes: boxes.get(im.id) ?? [],
      });
    }
  }
  return { classes: classes.map((c) => c.name), images };
}
