import * as ort from 'onnxruntime-node';
import { afterAll } from 'vitest';

// A test worker once died with "terminate called after throwing an instance of 'Napi::Error'". The likely cause:
// onnxruntime-node sessions still alive when a worker tears its N-API environment down are finalized after the
// runtime's own cleanup hook has run. Sessions a test forgot to release (a direct InferenceSession.create, a Runner
// built inline) are tracked here and released once the file's tests are done. Sessions made inside worker threads (a
// training job's) are not seen here; the product's own code releases those.
const live = new Set<ort.InferenceSession>();
const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (
  ...a: unknown[]
) => Promise<ort.InferenceSession>;
(ort.InferenceSession as { create: unknown }).create = async (...args: unknown[]) => {
  const s = await create(...args);
  live.add(s);
  const release = s.release.bind(s);
  s.release = async () => {
    live.delete(s);
    await release();
  };
  return s;
};

afterAll(async () => {
  const left = [...live];
  live.clear();
  await Promise.allSettled(left.map((s) => s.release()));
});
