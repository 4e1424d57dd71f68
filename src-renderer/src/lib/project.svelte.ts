/** The open project as reactive state, refreshed when the backend says it changed. */
import type { ProjectSummary } from '../../../src-main/api/contract';
import { api } from './api';
import { galleryView } from './gallery-view.svelte';

class ProjectState {
  current = $state<ProjectSummary | null>(null);
  loaded = $state(false);
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    try {
      this.current = await api.call('project.current', {});
      galleryView.forProject(this.current?.file ?? null); // another project: the gallery and A/D start unfiltered
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loaded = true;
    }
  }
}

export const project = new ProjectState();
let timer: ReturnType<typeof setTimeout> | undefined;
let lastRefresh = 0;
// Bursts of change events (bulk edits) become one refresh, and a running job's steady changes one per 2 s: the
// summary's counts take about half a second of the backend on a 100k-image project (bench:store).
api.on('project.changed', (e) => {
  if (timer) return;
  const wait = e.what === 'opened' || e.what === 'closed' ? 0 : Math.max(150, lastRefresh + 2000 - Date.now());
  timer = setTimeout(() => {
    timer = undefined;
    lastRefresh = Date.now();
    void project.refresh();
  }, wait);
});
