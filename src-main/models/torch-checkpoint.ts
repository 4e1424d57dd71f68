/**
 * Reads PyTorch checkpoints (.pt / .pth / .pth.tar in the zip format torch.save has written since 1.6) without
 * Python and without executing anything: a minimal zip reader, and a pickle interpreter that only builds
 * tensors, dicts (incl. OrderedDict), lists, tuples, numbers, strings, booleans and None, plus inert stand-ins
 * for the module objects a whole pickled model is made of (Ultralytics' checkpoints pickle the model itself):
 * torch.nn modules and Ultralytics classes become plain records of their class name and attributes, and nothing
 * of theirs is ever imported or called. Any other global (os.system, builtins.eval, ...) is refused with its name,
 * before anything is built.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { readElements, TORCH_STORAGES } from '../engine/dtypes.js';

/**
 * Marks the values the interpreter makes itself (tensors, globals, storages, records). A pickled dict can have
 * any string keys, "kind" included, but never a symbol one: so a crafted dict is never taken for one of these.
 */
export const PICKLED = Symbol('starling.pickled');
type Tagged = { readonly [PICKLED]: true };
const tagged = <T extends object>(v: T): T & Tagged => Object.assign(v, { [PICKLED]: true as const });
const isTagged = (v: unknown, kind: string): boolean =>
  !!v && typeof v === 'object' && (v as Partial<Tagged>)[PICKLED] === true && (v as { kind?: unknown }).kind === kind;
/** A pickled dict (or OrderedDict): a plain null-prototype object, never one of the tagged values. */
export const isDict = (v: unknown): v is Record<string, PickleValue> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !(PICKLED in v);

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
  | Global
  | PickledObject;
interface Storage {
  kind: 'storage';
  dtype: string;
  key: string;
}
interface Global {
  kind: 'global';
  name: string;
}
/** A pickled object of an allowed class, as data: its class name, constructor arguments and state (attributes). */
export interface PickledObject {
  kind: 'object';
  cls: string;
  args: PickleValue[];
  state: PickleValue;
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

/**
 * Classes whose instances are rebuilt as inert records (PickledObject), never constructed: the parts of a pickled
 * model. By module prefix, for torch.nn's modules and everything Ultralytics pickles with a model (its modules,
 * loss and assigner objects, its args namespace).
 */
const RECORD_PREFIXES = ['torch.nn.modules.', 'ultralytics.'];
/** Globals that stand for plain values. */
const VALUE_GLOBALS = new Set(['__builtin__ set', 'builtins set', 'torch device', 'torch dtype']);

function allowed(name: string): boolean {
  return SAFE_GLOBALS.has(name) || VALUE_GLOBALS.has(name) || RECORD_PREFIXES.some((p) => name.startsWith(p));
}

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
    if (!isDict(d)) throw new Error(`${file}: malformed pickle (SETITEM on a non-dict)`);
    d[String(k)] = v;
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
        stack.push(Object.create(null) as Record<string, PickleValue>); // no prototype: "__proto__" is a key
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
        if (!allowed(name))
          throw new Error(
            `${file}: refused: the pickle references ${name.replace(' ', '.')}, which is not a tensor, dict, list, number or string (unsafe or a pickled model object; save a state_dict instead)`,
          );
        stack.push(tagged({ kind: 'global', name }) as Global);
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const n = pop() as string;
        const m = pop() as string;
        const name = `${m} ${n}`;
        if (!allowed(name))
          throw new Error(
            `${file}: refused: the pickle references ${m}.${n}, which is not a tensor, dict, list, number or string (unsafe or a pickled model object; save a state_dict instead)`,
          );
        stack.push(tagged({ kind: 'global', name }) as Global);
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
        // BUILD: a record takes its state (attributes); OrderedDict / Parameter state is not needed
        const state = pop() as PickleValue;
        const obj = top();
        if (isTagged(obj, 'object')) (obj as PickledObject).state = state;
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
  if (!isTagged(fn, 'global')) throw new Error(`${file}: malformed pickle (a call of something that is not a global)`);
  if (RECORD_PREFIXES.some((p) => fn.name.startsWith(p)))
    return tagged({ kind: 'object', cls: fn.name, args, state: null }) as PickledObject;
  switch (fn.name) {
    case '__builtin__ set':
    case 'builtins set':
      return Array.isArray(args[0]) ? args[0] : [];
    case 'torch device':
      return String(args[0] ?? 'cpu');
    case 'collections OrderedDict':
      return Object.create(null) as Record<string, PickleValue>;
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
      throw new Error(`${file}: refused: cannot call ${fn.name}`);
  }
}

interface LoadedStorage {
  kind: 'loaded';
  dtype: string;
  values: Float32Array;
}

function rebuildTensor(st: LoadedStorage, offset: number, size: number[], stride: number[], file: string): TorchTensor {
  if (!isTagged(st, 'loaded')) throw new Error(`${file}: malformed tensor (no storage)`);
  if (!Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length || typeof offset !== 'number')
    throw new Error(`${file}: malformed tensor (bad size or stride)`);
  if (size.some((d) => !Number.isInteger(d) || d < 0) || stride.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`${file}: malformed tensor (bad size or stride)`);
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
  return tagged({ kind: 'tensor', shape: size, data: out, dtype: st.dtype }) as TorchTensor;
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
      const spec = TORCH_STORAGES[dtype];
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
        st = tagged({
          kind: 'loaded',
          dtype,
          values: readElements(data, spec, Math.floor(data.length / spec.bytes)),
        }) as LoadedStorage;
        loaded.set(key, st);
      }
      return st as unknown as PickleValue;
    },
    file,
  );
}

const isTensor = (v: PickleValue): v is TorchTensor => isTagged(v, 'tensor');

const isRecord = (v: PickleValue | undefined): v is PickledObject => isTagged(v, 'object');

/** A record's attributes (BUILD state is a dict, or a (dict, slots) pair). */
function attrs(o: PickledObject): Record<string, PickleValue> {
  const st = Array.isArray(o.state) ? o.state[0] : o.state;
  return isDict(st) ? st : {};
}

/**
 * The state dict of a pickled torch module (a record): its `_parameters` and `_buffers`, then its `_modules`
 * depth first, named as `state_dict()` names them.
 */
export function moduleStateDict(
  m: PickledObject,
  prefix = '',
  out = new Map<string, TorchTensor>(),
): Map<string, TorchTensor> {
  const a = attrs(m);
  for (const key of ['_parameters', '_buffers'])
    for (const [k, t] of Object.entries((a[key] ?? {}) as Record<string, PickleValue>))
      if (isTensor(t)) out.set(prefix + k, t);
  for (const [k, child] of Object.entries((a._modules ?? {}) as Record<string, PickleValue>))
    if (isRecord(child)) moduleStateDict(child, `${prefix}${k}.`, out);
  return out;
}

/** What an Ultralytics checkpoint says about its model (its `model`/`ema` record and `train_args`). */
export interface UltralyticsCard {
  /** The model's class (ultralytics.nn.tasks.DetectionModel). */
  modelClass: string;
  names: string[];
  nc: number;
  /** The model yaml: architecture file and scale. */
  yamlFile: string | null;
  scale: string | null;
  strides: number[];
  imgsz: number | null;
  version: string | null;
  /** Module classes of the top-level layers (model.0, model.1, ...), e.g. Conv, C2f, C3k2, Detect. */
  layers: string[];
}

/** The model record of an Ultralytics checkpoint (EMA weights preferred, as Ultralytics saves them), or null. */
export function ultralyticsModel(obj: PickleValue): PickledObject | null {
  if (!isDict(obj)) return null;
  const d = obj;
  const m = isRecord(d.ema) ? d.ema : d.model;
  return isRecord(m) && m.cls.startsWith('ultralytics.') ? m : null;
}

export function ultralyticsCard(obj: PickleValue, file: string): UltralyticsCard {
  const m = ultralyticsModel(obj);
  if (!m) throw new Error(`${file}: not an Ultralytics checkpoint (no model object under "model" or "ema")`);
  const a = attrs(m);
  const yaml = (a.yaml ?? {}) as Record<string, PickleValue>;
  const rawNames = a.names as PickleValue;
  const names = Array.isArray(rawNames)
    ? rawNames.map(String)
    : rawNames && typeof rawNames === 'object'
      ? Object.entries(rawNames as Record<string, PickleValue>)
          .sort((x, y) => Number(x[0]) - Number(y[0]))
          .map(([, v]) => String(v))
      : [];
  const stride = a.stride as PickleValue;
  const seq = isRecord((attrs(m)._modules as Record<string, PickleValue> | undefined)?.model)
    ? ((attrs(m)._modules as Record<string, PickleValue>).model as PickledObject)
    : null;
  const layers = seq
    ? Object.values((attrs(seq)._modules ?? {}) as Record<string, PickleValue>).map((l) =>
        isRecord(l) ? l.cls.split(' ').at(-1)! : '?',
      )
    : [];
  const yamlFile = typeof yaml.yaml_file === 'string' ? yaml.yaml_file : null;
  const scale =
    typeof yaml.scale === 'string' ? yaml.scale : (/yolo(?:v8|11|v5)([nsmlx])/.exec(yamlFile ?? '')?.[1] ?? null);
  const args = (obj as Record<string, PickleValue>).train_args;
  const argsAttrs = isRecord(args) ? attrs(args) : ((args ?? {}) as Record<string, PickleValue>);
  const imgsz = argsAttrs?.imgsz;
  return {
    modelClass: m.cls.replace(' ', '.'),
    names,
    nc: typeof yaml.nc === 'number' ? yaml.nc : names.length,
    yamlFile,
    scale,
    strides: isTensor(stride) ? Array.from(stride.data) : [],
    imgsz: typeof imgsz === 'number' ? imgsz : Array.isArray(imgsz) ? Number(imgsz[0]) : null,
    version:
      typeof (obj as Record<string, PickleValue>).version === 'string'
        ? ((obj as Record<string, PickleValue>).version as string)
        : null,
    layers,
  };
}

/** Finds the state dict in a checkpoint: the object itself, or its state_dict / model / ema / model_state entry. */
export function stateDictOf(obj: PickleValue, file: string): Map<string, TorchTensor> {
  const asDict = (v: PickleValue): Map<string, TorchTensor> | null => {
    if (!isDict(v)) return null;
    const entries = Object.entries(v).filter(([, t]) => isTensor(t)) as [string, TorchTensor][];
    return entries.length ? new Map(entries.map(([k, t]) => [k.replace(/^module\./, ''), t])) : null;
  };
  const direct = asDict(obj);
  if (direct) return direct;
  // A whole pickled model (Ultralytics): its modules' parameters and buffers.
  const model = ultralyticsModel(obj);
  if (model) return moduleStateDict(model);
  for (const key of ['state_dict', 'model_state', 'model', 'ema', 'net']) {
    const inner = asDict((obj as Record<string, PickleValue>)?.[key] ?? null);
    if (inner) return inner;
  }
  throw new Error(
    `${file}: no state dict of tensors found (looked at the top level and at state_dict, model_state, model, ema, net)`,
  );
}
