/**
 * The gallery's filters, selection and scroll position, kept while other views are open: going back to the
 * gallery finds it as it was left, and the annotator's A/D walk the same filtered list the gallery shows (as
 * CVAT's job filters do). Reset when another project opens.
 */
import type { ImageFilter } from '../../../src-main/store/images';

export type GalleryStatus = 'unlabeled' | 'labeled' | 'reviewed' | 'pending' | 'partial';
export type GallerySplit = 'train' | 'val' | 'test';

class GalleryView {
  split = $state<GallerySplit | ''>('');
  status = $state<GalleryStatus | ''>('');
  classId = $state<number | ''>('');
  source = $state<'' | 'manual' | 'teacher' | 'model'>('');
  minScore = $state(0);
  /** Part of the file name or path (case-insensitive). */
  search = $state('');
  /** The grid's order (the annotator's A/D follow it). */
  sort = $state<'added' | '-added' | 'name' | '-name'>('added');
  /** Where the gallery was left (plain fields: written when it is left, read when it opens). */
  left: { key: string; selected: number; scrollTop: number } | null = null;
  /** The image the annotator showed last: the Annotate tab goes back to it. */
  lastAnnotated: number | null = null;
  private projectFile: string | null = null;

  get filter(): ImageFilter {
    return {
      ...(this.split ? { split: this.split } : {}),
      ...(this.status ? { status: this.status } : {}),
      ...(this.classId !== '' ? { classId: this.classId } : {}),
      ...(this.source ? { source: this.source } : {}),
      ...(this.minScore > 0 ? { minScore: this.minScore } : {}),
      ...(this.search.trim() ? { pathContains: this.search.trim() } : {}),
      ...(this.sort !== 'added' ? { sort: this.sort } : {}),
    };
  }

  /** Whether the walk depends on labels (not only on the split): then label edits can change it. */
  get dependsOnLabels(): boolean {
    return Boolean(this.status || this.classId !== '' || this.source || this.minScore > 0);
  }

  /** Called with the open project's file: a different project starts from an unfiltered gallery. */
  forProject(file: string | null): void {
    if (file === this.projectFile) return;
    this.projectFile = file;
    this.split = '';
    this.status = '';
    this.classId = '';
    this.source = '';
    this.minScore = 0;
    this.search = '';
    this.sort = 'added';
    this.left = null;
    this.lastAnnotated = null;
  }
}

export const galleryView = new GalleryView();
