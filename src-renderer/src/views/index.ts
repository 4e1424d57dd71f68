/**
 * Every view of the app, one line each: its route name, its nav label and Alt key, the component and the props it
 * takes from the route. The shell (App.svelte) builds the nav and the routing from this list.
 */
import type { Component } from 'svelte';
import type { Route } from '../lib/router.svelte';
import Annotate from './Annotate.svelte';
import Dataset from './Dataset.svelte';
import Health from './Health.svelte';
import Detections from './Detections.svelte';
import Export from './Export.svelte';
import Gallery from './Gallery.svelte';
import Teachers from './Teachers.svelte';
import Train from './Train.svelte';

export interface ViewEntry {
  name: string;
  label: string;
  /** Alt+<key> opens it from anywhere. */
  key: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each view declares its own props
  component: Component<any>;
  props?: (route: Route) => Record<string, unknown>;
}

export const VIEWS: readonly ViewEntry[] = [
  { name: 'gallery', label: 'Gallery', key: 'G', component: Gallery },
  { name: 'annotate', label: 'Annotate', key: 'N', component: Annotate, props: (r) => ({ param: r.param }) },
  {
    name: 'review',
    label: 'Review queue',
    key: 'R',
    component: Annotate,
    props: (r) => ({ param: r.param, review: true }),
  },
  { name: 'dataset', label: 'Dataset', key: 'O', component: Dataset },
  { name: 'health', label: 'Dataset health', key: 'H', component: Health },
  { name: 'teachers', label: 'Teachers', key: 'T', component: Teachers },
  { name: 'train', label: 'Train', key: 'P', component: Train },
  { name: 'runs', label: 'Runs', key: 'L', component: Train, props: () => ({ leaderboard: true }) },
  { name: 'detections', label: 'Detection review', key: 'I', component: Detections },
  { name: 'export', label: 'Export', key: 'X', component: Export },
];
