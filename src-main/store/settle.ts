/**
 * The one rule that settles an unlabeled image once its boxes are decided, used by an edit in the annotator and
 * by a bulk review alike: an image that is `unlabeled`, has no pending box left and holds at least one accepted
 * box becomes `reviewed` when an accepted box came from a teacher (its labels are reviewed pseudo-labels), and
 * `labeled` otherwise (a person drew them). Rejected teacher boxes do not make an image `reviewed`.
 */
import type { DB } from './db.js';

export function settleImages(db: DB, imageIds: Iterable<number>): void {
  const settle = db.prepare(
    `UPDATE images SET status = CASE WHEN EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id
       AND review = 'accepted' AND source LIKE 'teacher:%') THEN 'reviewed' ELSE 'labeled' END
     WHERE id = ? AND status = 'unlabeled'
     AND NOT EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id AND review = 'pending')
     AND EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id AND review = 'accepted')`,
  );
  for (const id of imageIds) settle.run(id);
}
