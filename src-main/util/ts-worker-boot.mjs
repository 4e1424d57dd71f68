// Starts a TypeScript module off the main thread when running from source (CLI through tsx, tests): workers and
// child processes do not inherit the main thread's module hooks, so this registers tsx again and imports the
// entry: workerData.__entry in a worker thread, the first argument in a child process.
import { isMainThread, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(isMainThread ? process.argv[2] : workerData.__entry);
