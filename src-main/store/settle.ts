/**
 * When an image's labels are complete. Deciding boxes does not complete an image: accepting the one pending star
 * on an image that shows ten shapes must not make it a training image with nine objects learned as background.
 * So an image a teacher has labeled becomes `done` only when the user says so (`markDone`: in the annotator, the
 * review queue, or a bulk review that asks for it); marking done rejects what is still pending on it and makes it
 * `reviewed` when a teacher's box was accepted, `labeled` otherwise. Reopening makes it `unlabeled` again.
 *
 * An image no teacher has touched is labeled by hand: an edit settles it as `labeled` once it holds a box and
 * nothing waits (the annotator's classic flow, as every labeling tool has it).
 */
import type { DB } from './db.js';

/** After an edit: an unlabeled image with only hand-made boxes, at least one of them accepted, is labeled. */
export function settleHandLabeled(db: DB, imageIds: Iterable<number>): void {
  const settle = db.prepare(
    `UPDATE images SET status = 'labeled' WHERE id = ? AND status = 'unlabeled'
     AND NOT EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id AND (review = 'pending' OR source LIKE 'teacher:%'))
     AND EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id AND review = 'accepted')`,
  );
  for (const id of imageIds) settle.run(id);
}

/**
 * Marks images done (their labels are complete; what is still pending is rejected; an image done before and
 * pending again is done again) or reopens them. Returns the images marked and the pending boxes rejected.
 */
export function markDone(db: DB, imageIds: readonly number[], done: boolean): { images: number; rejected: number } {
  return db
    .transaction(() => {
      let images = 0;
      let rejected = 0;
      const now = Date.now();
      const reject = db.prepare(
        "UPDATE annotations SET review = 'rejected', updated_at = ? WHERE image_id = ? AND review = 'pending'",
      );
      const finish = db.prepare(
        `UPDATE images SET status = CASE WHEN EXISTS (SELECT 1 FROM annotations WHERE image_id = images.id
           AND review = 'accepted' AND source LIKE 'teacher:%') THEN 'reviewed' ELSE 'labeled' END
         WHERE id = ?`,
      );
      const reopen = db.prepare("UPDATE images SET status = 'unlabeled' WHERE id = ? AND status != 'unlabeled'");
      for (const id of imageIds) {
        if (done) {
          rejected += reject.run(now, id).changes;
          images += finish.run(id).changes;
        } else images += reopen.run(id).changes;
      }
      return { images, rejected };
    })
    .immediate();
}

/** The images among `imageIds` with nothing left pending (a bulk accept that also marks them done). */
export function withNothingPending(db: DB, imageIds: readonly number[]): number[] {
  const q = db.prepare("SELECT 1 FROM annotations WHERE image_id = ? AND review = 'pending' LIMIT 1");
  return imageIds.filter((id) => !q.get(id));
}
