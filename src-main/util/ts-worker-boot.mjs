// Starts a TypeScript module in a worker thread when running from source (CLI through tsx, tests): workers do not
// inherit the main thread's module hooks, so this registers tsx again and imports workerData.__entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
