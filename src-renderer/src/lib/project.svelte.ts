/** The open project as reactive state, refreshed when the backend says it changed. */
import type { ProjectSummary } from '../../../src-main/api/contract';
import { api } from './api';

class ProjectState {
  current = $state<ProjectSummary | null>(null);
  loaded = $state(false);
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    try {
      this.current = await api.call('project.current', {});
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
// Coalesce bursts of change events (bulk edits) into one refresh.
api.on('project.changed', () => {
  clearTimeout(timer);
  timer = setTimeout(() => void project.refresh(), 150);
});
