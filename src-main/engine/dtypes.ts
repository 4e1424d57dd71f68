/**
 * Reading stored tensor elements as float32, for the file formats weights come in: PyTorch storages
 * (FloatStorage, HalfStorage, ...) and safetensors dtypes (F32, F16, BF16, ...). Integer and boolean tensors
 * (BatchNorm's num_batches_tracked, masks) read as their numeric values.
 */
export interface ElementType {
  bytes: number;
  read: (b: Buffer, offset: number) => number;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const bf16 = new Uint32Array(1);
const bf16f = new Float32Array(bf16.buffer);

const TYPES = {
  float32: { bytes: 4, read: (b, o) => b.readFloatLE(o) },
  float64: { bytes: 8, read: (b, o) => b.readDoubleLE(o) },
  float16: { bytes: 2, read: (b, o) => halfToFloat(b.readUInt16LE(o)) },
  bfloat16: {
    bytes: 2,
    read: (b, o) => {
      bf16[0] = b.readUInt16LE(o) << 16;
      return bf16f[0]!;
    },
  },
  int64: { bytes: 8, read: (b, o) => Number(b.readBigInt64LE(o)) },
  int32: { bytes: 4, read: (b, o) => b.readInt32LE(o) },
  int16: { bytes: 2, read: (b, o) => b.readInt16LE(o) },
  int8: { bytes: 1, read: (b, o) => b.readInt8(o) },
  uint8: { bytes: 1, read: (b, o) => b.readUInt8(o) },
  bool: { bytes: 1, read: (b, o) => b.readUInt8(o) },
} satisfies Record<string, ElementType>;

/** torch.save's storage classes. */
export const TORCH_STORAGES: Readonly<Record<string, ElementType>> = {
  FloatStorage: TYPES.float32,
  DoubleStorage: TYPES.float64,
  HalfStorage: TYPES.float16,
  BFloat16Storage: TYPES.bfloat16,
  LongStorage: TYPES.int64,
  IntStorage: TYPES.int32,
  ShortStorage: TYPES.int16,
  CharStorage: TYPES.int8,
  ByteStorage: TYPES.uint8,
  BoolStorage: TYPES.bool,
};

/** safetensors' dtype codes. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, ElementType>> = {
  F32: TYPES.float32,
  F64: TYPES.float64,
  F16: TYPES.float16,
  BF16: TYPES.bfloat16,
  I64: TYPES.int64,
  I32: TYPES.int32,
  I16: TYPES.int16,
  I8: TYPES.int8,
  U8: TYPES.uint8,
  BOOL: TYPES.bool,
};

/** `count` elements of `type` from `bytes` as float32. */
export function readElements(bytes: Buffer, type: ElementType, count: number): Float32Array {
  const out = new Float32Array(count);
  if (type === TYPES.float32 && bytes.byteOffset % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count));
    return out;
  }
  for (let k = 0; k < count; k++) out[k] = type.read(bytes, k * type.bytes);
  return out;
}
