import type { ProjectStore } from '../store/project.js';
import type { Dataset, DatasetBox, DatasetImage } from './dataset.js';

/**
 * The project's labels as a neutral Dataset for export: accepted boxes only (pending pseudo-labels and rejected
 * boxes are not labels yet). An image is labeled only when its status says so and no box on it waits for review:
 * otherwise (not labeled yet, or under review) it is marked `labeled: false`, and the writers keep it out of the
 * splits (the tools that read an export take an image without labels as one with nothing on it).
 */
export function datasetFromProject(store: ProjectStore): Dataset & { underReview: number; unlabeled: number } {
  const classes = store.classes.list();
  const indexOf = new Map(classes.map((c, i) => [c.id, i]));
  const boxes = new Map<number, DatasetBox[]>();
  const pending = new Set<number>();
  for (const a of store.annotations.iterate(['pending'])) pending.add(a.imageId);
  for (const a of store.annotations.iterate(['accepted'])) {
    const list = boxes.get(a.imageId) ?? [];
    list.push({ classIndex: indexOf.get(a.classId)!, x: a.x, y: a.y, w: a.w, h: a.h });
    boxes.set(a.imageId, list);
  }
  const images: DatasetImage[] = [];
  let underReview = 0;
  let unlabeled = 0;
  const total = store.images.count();
  for (let offset = 0; offset < total; offset += 5000) {
    for (const im of store.images.list({}, offset, 5000)) {
      const labeled = im.status !== 'unlabeled' && !pending.has(im.id);
      if (!labeled) {
        if (pending.has(im.id)) underReview++;
        else unlabeled++;
      }
      images.push({
        file: store.absolutePath(im.path),
        split: im.split,
        width: im.width,
        height: im.height,
        labeled,
        boxes: boxes.get(im.id) ?? [],
      });
    }
  }
  return { classes: classes.map((c) => c.name), images, underReview, unlabeled };
}
