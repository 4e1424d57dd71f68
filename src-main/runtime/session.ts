import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { DType } from '../engine/ir.js';

/**
 * onnxruntime sessions: execution-provider choice with a report of what was asked for and what is used,
 * thread settings, and a cache of sessions per graph key.
 */

export type Device = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface DeviceReport {
  requested: Device;
  used: 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
  available: string[];
  /** Why the requested provider is not used, when it is not. */
  fallbackReason?: string;
  intraOpThreads: number;
}

export interface RunnerOptions {
  device?: Device;
  /** Threads inside one op; 0 lets onnxruntime choose (all cores). */
  intraOpThreads?: number;
  interOpThreads?: number;
}

/** Per-graph session options. */
export interface SessionTuning {
  /**
   * onnxruntime's memory pattern plans one block for every intermediate of a run. For a training graph (every
   * activation kept for the backward pass, and the backward's own) that block is most of the process: turning it
   * off took a YOLO11n step at batch 16 from 1.87 to 1.06 GB peak RSS at the same speed (bench:train). Buffers
   * then come from the CPU arena as they are needed.
   */
  memPattern?: boolean;
}

const PROVIDER: Record<Exclude<Device, 'auto' | 'cpu'>, string> = {
  cuda: 'cuda',
  dml: 'dml',
  coreml: 'coreml',
  webgpu: 'webgpu',
};

/**
 * Execution providers this install can use. onnxruntime-node's Linux build lists CUDA even when its CUDA
 * libraries were not installed (Starling skips that download by default; see README, "GPU"), so CUDA counts
 * only when its provider library is present beside the binding.
 */
export function availableProviders(): string[] {
  const listed = ort.listSupportedBackends().map((b) => b.name);
  return listed.filter((name) => name !== 'cuda' || cudaLibraryInstalled());
}

function cudaLibraryInstalled(): boolean {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const dir = path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
    return fs.readdirSync(dir).some((f) => f.startsWith('libonnxruntime_providers_cuda'));
  } catch {
    return false;
  }
}

/** Picks the execution provider: the requested one if this build has it, else CPU with the reason. */
export function chooseDevice(
  requested: Device,
  available = availableProviders(),
): Omit<DeviceReport, 'intraOpThreads'> {
  if (requested === 'cpu') return { requested, used: 'cpu', available };
  if (requested === 'auto') {
    for (const d of ['cuda', 'dml', 'coreml'] as const)
      if (available.includes(PROVIDER[d])) return { requested, used: d, available };
    return { requested, used: 'cpu', available };
  }
  if (available.includes(PROVIDER[requested])) return { requested, used: requested, available };
  return {
    requested,
    used: 'cpu',
    available,
    fallbackReason: `${requested} is not available in this onnxruntime-node build (has: ${available.join(', ')}); using cpu`,
  };
}

export type Feed = {
  /** The graph's types, and uint8 for image bytes (inference/preprocess.ts). */
  dtype: DType | 'uint8';
  shape: readonly number[];
  data: Float32Array | BigInt64Array | Uint8Array | ArrayLike<number>;
};

export function toOrtTensor(f: Feed): ort.Tensor {
  if (f.dtype === 'float32') {
    const data = f.data instanceof Float32Array ? f.data : Float32Array.from(f.data as ArrayLike<number>);
    return new ort.Tensor('float32', data, [...f.shape]);
  }
  if (f.dtype === 'int64') {
    const data =
      f.data instanceof BigInt64Array
        ? f.data
        : BigInt64Array.from(Array.from(f.data as ArrayLike<number>, (v) => BigInt(v)));
    return new ort.Tensor('int64', data, [...f.shape]);
  }
  if (f.dtype === 'uint8') {
    const data = f.data instanceof Uint8Array ? f.data : Uint8Array.from(f.data as ArrayLike<number>);
    return new ort.Tensor('uint8', data, [...f.shape]);
  }
  const data = f.data instanceof Uint8Array ? f.data : Uint8Array.from(f.data as ArrayLike<number>, (v) => (v ? 1 : 0));
  return new ort.Tensor('bool', data, [...f.shape]);
}

export class Runner {
  report: DeviceReport;
  private readonly cache = new Map<string, Promise<ort.InferenceSession>>();

  constructor(private readonly opts: RunnerOptions = {}) {
    const choice = chooseDevice(opts.device ?? 'auto');
    this.report = { ...choice, intraOpThreads: opts.intraOpThreads ?? 0 };
    if (choice.fallbackReason) console.warn(`starling: ${choice.fallbackReason}`);
  }

  private sessionOptions(o: SessionTuning = {}): ort.InferenceSession.SessionOptions {
    return {
      ...(o.memPattern === false ? { enableMemPattern: false } : {}),
      executionProviders: this.report.used === 'cpu' ? ['cpu'] : [PROVIDER[this.report.used], 'cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.opts.intraOpThreads ?? 0,
      interOpNumThreads: this.opts.interOpThreads ?? 1,
      executionMode: 'sequential',
    };
  }

  /** A session for a model, created once per key (graph + batch shape). */
  session(key: string, model: () => Uint8Array, tuning: SessionTuning = {}): Promise<ort.InferenceSession> {
    let s = this.cache.get(key);
    if (!s) {
      const bytes = model();
      s = ort.InferenceSession.create(bytes, this.sessionOptions(tuning))
        .catch((e: unknown) => {
          // A GPU provider this build lists may still fail to load (e.g. the CUDA libraries were not installed,
          // which is the default here): fall back to CPU once, say so, and keep going.
          if (this.report.used === 'cpu' || !/load|shared librar|provider/i.test((e as Error).message)) throw e;
          this.report = {
            ...this.report,
            used: 'cpu',
            fallbackReason: `${this.report.used} failed to load (${(e as Error).message.split('\n')[0]}); using cpu`,
          };
          console.warn(`starling: ${this.report.fallbackReason}`);
          return ort.InferenceSession.create(bytes, this.sessionOptions(tuning));
        })
        .catch((e: unknown) => {
          this.cache.delete(key);
          throw new Error(`onnxruntime refused graph "${key}": ${(e as Error).message}`);
        });
      this.cache.set(key, s);
    }
    return s;
  }

  async run(
    key: string,
    model: () => Uint8Array,
    feeds: Record<string, Feed>,
    tuning: SessionTuning = {},
  ): Promise<Record<string, ort.Tensor>> {
    const session = await this.session(key, model, tuning);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(f);
    return session.run(ortFeeds);
  }

  async dispose(): Promise<void> {
    const sessions = await Promise.allSettled([...this.cache.values()]);
    this.cache.clear();
    await Promise.all(sessions.map((s) => (s.status === 'fulfilled' ? s.value.release() : undefined)));
  }
}
