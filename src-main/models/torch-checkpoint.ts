/**
 * Reads PyTorch checkpoints (.pt / .pth / .pth.tar in the zip format torch.save has written since 1.6) without
 * Python and without executing anything: a minimal zip reader, and a pickle interpreter that only builds
 * tensors, dicts (incl. OrderedDict), lists, tuples, numbers, strings, booleans and None. Any other global
 * (a pickled nn.Module, os.system, ...) is refused with its name, before anything is built.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

export interface TorchTensor {
  kind: 'tensor';
  shape: number[];
  data: Float32Array;
  dtype: string;
}
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | { [k: string]: PickleValue }
  | TorchTensor
  | Storage
  | Global;
interface Storage {
  kind: 'storage';
  dtype: string;
  key: string;
}
interface Global {
  kind: 'global';
  name: string;
}

// ---- zip ----
/** A zip entry, inflated only on request and never past its declared size. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  /** The size the archive declares for the inflated entry. */
  size: number;
  read(): Buffer;
}

/** The largest entry a checkpoint may declare (a 56M-parameter YOLO11x in float32 holds 225 MB in all). */
export const MAX_ENTRY_BYTES = 4 * 1024 ** 3;

export function readZip(buf: Buffer, file: string): Map<string, ZipEntry> {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0)
    throw new Error(
      `${file}: not a zip archive (legacy torch.save format is not supported; re-save with torch >= 1.6)`,
    );
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // ZIP64: the locator sits right before the end-of-central-directory record.
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new Error(`${file}: broken ZIP64 archive`);
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      throw new Error(`${file}: corrupt zip central directory`);
    const method = buf.readUInt16LE(p + 10);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    // ZIP64 extra field: sizes and offset that did not fit.
    for (let x = p + 46 + nlen; x < p + 46 + nlen + xlen;) {
      const id = buf.readUInt16LE(x);
      const size = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        if (usize === 0xffffffff) {
          usize = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (csize === 0xffffffff) {
          csize = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (local === 0xffffffff) local = Number(buf.readBigUInt64LE(q));
      }
      x += 4 + size;
    }
    if (local + 30 > buf.length) throw new Error(`${file}: truncated (entry ${name} runs past the end)`);
    const lnlen = buf.readUInt16LE(local + 26);
    const lxlen = buf.readUInt16LE(local + 28);
    const start = local + 30 + lnlen + lxlen;
    if (start + csize > buf.length) throw new Error(`${file}: truncated (entry ${name} runs past the end)`);
    if (method !== 0 && method !== 8)
      throw new Error(`${file}: ${name} uses zip compression method ${method}, which is not supported`);
    if (method === 0 && usize !== csize) throw new Error(`${file}: ${name}: stored entry with two sizes`);
    entries.set(name, {
      name,
      method,
      compressedSize: csize,
      size: usize,
      read() {
        const raw = buf.subarray(start, start + csize);
        if (method === 0) return raw;
        if (usize > MAX_ENTRY_BYTES)
          throw new Error(`${file}: ${name} declares ${usize} bytes, over the ${MAX_ENTRY_BYTES}-byte limit: refused`);
        let out: Buffer;
        try {
          // Never past the declared size: a bomb that lies about it stops here.
          out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) });
        } catch (e) {
          throw new Error(`${file}: ${name} does not inflate to its declared ${usize} bytes (${(e as Error).message})`);
        }
        if (out.length !== usize)
          throw new Error(`${file}: ${name} inflates to ${out.length} bytes, not the ${usize} it declares`);
        return out;
      },
    });
    p += 46 + nlen + xlen + clen;
  }
  return entries;
}

// ---- pickle --------------------------------------------------------------------------------------
const SAFE_GLOBALS = new Set([
  'collections OrderedDict',
  'torch._utils _rebuild_tensor_v2',
  'torch._utils _rebuild_parameter',
  'torch FloatStorage',
  'torch HalfStorage',
  'torch BFloat16Storage',
  'torch DoubleStorage',
  'torch LongStorage',
  'torch IntStorage',
  'torch ShortStorage',
  'torch CharStorage',
  'torch ByteStorage',
  'torch BoolStorage',
  'torch._tensor _rebuild_from_type_v2',
  'torch Size',
]);

const MARK = Symbol('mark');

/** Interprets a pickle; `persistent` resolves storage ids; refuses unknown globals. */
export function unpickle(data: Buffer, persistent: (pid: PickleValue[]) => PickleValue, file: string): PickleValue {
  const stack: (PickleValue | typeof MARK)[] = [];
  const memo = new Map<number, PickleValue>();
  let i = 0;
  const popMark = (): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new Error(`${file}: malformed pickle (no MARK)`);
    const items = stack.splice(at) as PickleValue[];
    items.shift();
    return items;
  };
  const pop = () => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new Error(`${file}: malformed pickle (stack underflow)`);
    return v;
  };
  const top = () => stack[stack.length - 1] as PickleValue;
  const readLine = () => {
    const end = data.indexOf(0x0a, i);
    const s = data.toString('latin1', i, end);
    i = end + 1;
    return s;
  };
  const setItem = (d: PickleValue, k: PickleValue, v: PickleValue) => {
    if (!d || typeof d !== 'object' || Array.isArray(d) || 'kind' in d)
      throw new Error(`${file}: malformed pickle (SETITEM on a non-dict)`);
    (d as Record<string, PickleValue>)[String(k)] = v;
  };
  for (;;) {
    if (i >= data.length) throw new Error(`${file}: truncated pickle`);
    const op = data[i++]!;
    switch (op) {
      case 0x80:
        i++;
        break; // PROTO
      case 0x95:
        i += 8;
        break; // FRAME
      case 0x2e:
        return pop() as PickleValue; // STOP
      case 0x7d:
        stack.push({});
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x28:
        stack.push(MARK);
        break; // MARK
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4b:
        stack.push(data[i]!);
        i += 1;
        break; // BININT1
      case 0x4d:
        stack.push(data.readUInt16LE(i));
        i += 2;
        break; // BININT2
      case 0x4a:
        stack.push(data.readInt32LE(i));
        i += 4;
        break; // BININT
      case 0x8a: {
        // LONG1
        const n = data[i++]!;
        let v = 0n;
        for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(data[i + k]!);
        if (n && data[i + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        i += n;
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47:
        stack.push(data.readDoubleBE(i));
        i += 8;
        break; // BINFLOAT
      case 0x58: {
        const n = data.readUInt32LE(i);
        stack.push(data.toString('utf8', i + 4, i + 4 + n));
        i += 4 + n;
        break;
      } // BINUNICODE
      case 0x8c: {
        const n = data[i]!;
        stack.push(data.toString('utf8', i + 1, i + 1 + n));
        i += 1 + n;
        break;
      } // SHORT_BINUNICODE
      case 0x54: {
        const n = data.readUInt32LE(i);
        stack.push(data.toString('latin1', i + 4, i + 4 + n));
        i += 4 + n;
        break;
      } // BINSTRING
      case 0x55: {
        const n = data[i]!;
        stack.push(data.toString('latin1', i + 1, i + 1 + n));
        i += 1 + n;
        break;
      } // SHORT_BINSTRING
      case 0x71:
        memo.set(data[i]!, top());
        i += 1;
        break; // BINPUT
      case 0x72:
        memo.set(data.readUInt32LE(i), top());
        i += 4;
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
        stack.push(memo.get(data[i]!)!);
        i += 1;
        break; // BINGET
      case 0x6a:
        stack.push(memo.get(data.readUInt32LE(i))!);
        i += 4;
        break; // LONG_BINGET
      case 0x73: {
        const v = pop();
        const k = pop();
        setItem(top(), k as PickleValue, v as PickleValue);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        const d = top();
        for (let k = 0; k < items.length; k += 2) setItem(d, items[k]!, items[k + 1]!);
        break;
      } // SETITEMS
      case 0x61: {
        const v = pop();
        (top() as PickleValue[]).push(v as PickleValue);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        (top() as PickleValue[]).push(...items);
        break;
      } // APPENDS
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85:
        stack.push([pop() as PickleValue]);
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push([a, b] as PickleValue[]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c] as PickleValue[]);
        break;
      } // TUPLE3
      case 0x63: {
        // GLOBAL
        const name = `${readLine()} ${readLine()}`;
        if (!SAFE_GLOBALS.has(name))
          throw new Error(
            `${file}: refused: the pickle references ${name.replace(' ', '.')}, which is not a tensor, dict, list, number or string (unsafe or a pickled model object; save a state_dict instead)`,
          );
        stack.push({ kind: 'global', name });
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const n = pop() as string;
        const m = pop() as string;
        const name = `${m} ${n}`;
        if (!SAFE_GLOBALS.has(name))
          throw new Error(
            `${file}: refused: the pickle references ${m}.${n}, which is not a tensor, dict, list, number or string (unsafe or a pickled model object; save a state_dict instead)`,
          );
        stack.push({ kind: 'global', name });
        break;
      }
      case 0x51:
        stack.push(persistent(pop() as PickleValue[]));
        break; // BINPERSID
      case 0x52: {
        // REDUCE
        const args = pop() as PickleValue[];
        const fn = pop() as Global;
        stack.push(reduce(fn, args, file));
        break;
      }
      case 0x62: {
        // BUILD: state for OrderedDict / Parameter; keep the object as is
        pop();
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop() as PickleValue[];
        const cls = pop() as Global;
        stack.push(reduce(cls, args, file));
        break;
      }
      default:
        throw new Error(`${file}: unsupported pickle opcode 0x${op.toString(16)} at byte ${i - 1}`);
    }
  }
}

function reduce(fn: Global, args: PickleValue[], file: string): PickleValue {
  switch (fn?.name) {
    case 'collections OrderedDict':
      return {};
    case 'torch._utils _rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args as [
        TorchTensor & { source?: Float32Array },
        number,
        number[],
        number[],
      ];
      return rebuildTensor(storage as unknown as LoadedStorage, offset, size, stride, file);
    }
    case 'torch._utils _rebuild_parameter':
    case 'torch._tensor _rebuild_from_type_v2':
      return (fn.name.endsWith('_rebuild_parameter') ? args[0] : (args[1] as PickleValue[])[0])!;
    case 'torch Size':
      return args[0] as PickleValue;
    default:
      throw new Error(`${file}: refused: cannot call ${fn?.name ?? 'a non-global'}`);
  }
}

interface LoadedStorage {
  kind: 'loaded';
  dtype: string;
  values: Float32Array;
}

function rebuildTensor(st: LoadedStorage, offset: number, size: number[], stride: number[], file: string): TorchTensor {
  if (!st || st.kind !== 'loaded') throw new Error(`${file}: malformed tensor (no storage)`);
  const n = size.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  // Strided gather (tensors saved from views may not be contiguous).
  const idx = new Array<number>(size.length).fill(0);
  for (let k = 0; k < n; k++) {
    let j = offset;
    for (let d = 0; d < size.length; d++) j += idx[d]! * stride[d]!;
    if (j >= st.values.length) throw new Error(`${file}: tensor reads past its storage (truncated file?)`);
    out[k] = st.values[j]!;
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
  return { kind: 'tensor', shape: size, data: out, dtype: st.dtype };
}

const DTYPES: Record<string, { bytes: number; read: (b: Buffer, o: number) => number }> = {
  FloatStorage: { bytes: 4, read: (b, o) => b.readFloatLE(o) },
  DoubleStorage: { bytes: 8, read: (b, o) => b.readDoubleLE(o) },
  HalfStorage: { bytes: 2, read: (b, o) => halfToFloat(b.readUInt16LE(o)) },
  BFloat16Storage: {
    bytes: 2,
    read: (b, o) => new Float32Array(new Uint32Array([b.readUInt16LE(o) << 16]).buffer)[0]!,
  },
  LongStorage: { bytes: 8, read: (b, o) => Number(b.readBigInt64LE(o)) },
  IntStorage: { bytes: 4, read: (b, o) => b.readInt32LE(o) },
  ShortStorage: { bytes: 2, read: (b, o) => b.readInt16LE(o) },
  CharStorage: { bytes: 1, read: (b, o) => b.readInt8(o) },
  ByteStorage: { bytes: 1, read: (b, o) => b.readUInt8(o) },
  BoolStorage: { bytes: 1, read: (b, o) => b.readUInt8(o) },
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The largest pickle Starling reads (an Ultralytics checkpoint's is a few hundred KB). */
const MAX_PICKLE_BYTES = 256 * 1024 ** 2;

/**
 * Reads a torch.save'd object; tensors come back as float32. The pickle is read first; each storage it references
 * is inflated only when a tensor needs it, and only if the archive's declared size is what the pickle says that
 * storage holds (its element count times the dtype's size): a zip bomb, or a file whose parts disagree, is
 * refused before anything large is inflated.
 */
export function readTorchCheckpoint(file: string): PickleValue {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const zip = readZip(bytes, file);
  const pkl = [...zip.keys()].find((k) => k.endsWith('/data.pkl') || k === 'data.pkl');
  if (!pkl) throw new Error(`${file}: a zip, but not a PyTorch checkpoint (no data.pkl)`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const pickle = zip.get(pkl)!;
  if (pickle.size > MAX_PICKLE_BYTES) throw new Error(`${file}: its pickle declares ${pickle.size} bytes: refused`);
  const loaded = new Map<string, LoadedStorage>();
  return unpickle(
    pickle.read(),
    (pid) => {
      const [tag, type, key, , numel] = pid as [string, Global, string, unknown, unknown];
      if (tag !== 'storage') throw new Error(`${file}: unknown persistent id ${String(tag)}`);
      const dtype = type.name.split(' ')[1]!;
      const spec = DTYPES[dtype];
      if (!spec) throw new Error(`${file}: unsupported storage type ${dtype}`);
      let st = loaded.get(key);
      if (!st) {
        const entry = zip.get(`${prefix}data/${key}`);
        if (!entry) throw new Error(`${file}: storage ${key} is missing from the archive (truncated?)`);
        if (typeof numel === 'number' && entry.size !== numel * spec.bytes)
          throw new Error(
            `${file}: storage ${key} declares ${entry.size} bytes, but the pickle says it holds ${numel} ${dtype} elements ` +
              `(${numel * spec.bytes} bytes): a corrupt or hostile file, nothing loaded`,
          );
        const data = entry.read();
        const n = Math.floor(data.length / spec.bytes);
        const values = new Float32Array(n);
        for (let k = 0; k < n; k++) values[k] = spec.read(data, k * spec.bytes);
        st = { kind: 'loaded', dtype, values };
        loaded.set(key, st);
      }
      return st as unknown as PickleValue;
    },
    file,
  );
}

const isTensor = (v: PickleValue): v is TorchTensor =>
  !!v && typeof v === 'object' && !Array.isArray(v) && (v as TorchTensor).kind === 'tensor';

/** Finds the state dict in a checkpoint: the object itself, or its state_dict / model / ema / model_state entry. */
export function stateDictOf(obj: PickleValue, file: string): Map<string, TorchTensor> {
  const asDict = (v: PickleValue): Map<string, TorchTensor> | null => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || 'kind' in v) return null;
    const entries = Object.entries(v).filter(([, t]) => isTensor(t)) as [string, TorchTensor][];
    return entries.length ? new Map(entries.map(([k, t]) => [k.replace(/^module\./, ''), t])) : null;
  };
  const direct = asDict(obj);
  if (direct) return direct;
  for (const key of ['state_dict', 'model_state', 'model', 'ema', 'net']) {
    const inner = asDict((obj as Record<string, PickleValue>)?.[key] ?? null);
    if (inner) return inner;
  }
  throw new Error(
    `${file}: no state dict of tensors found (looked at the top level and at state_dict, model_state, model, ema, net)`,
  );
}
