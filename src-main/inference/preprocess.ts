/**
 * The letterbox as an ONNX graph, for pipelines where the JS thread is the bottleneck (pseudo-labeling runs
 * inference and preprocessing on one thread): decoded RGB bytes [H, W, 3] in, the network input [1, 3, S, S]
 * out: transpose, cast, Resize (linear, half_pixel: the float form of OpenCV's INTER_LINEAR, no antialiasing),
 * Round (OpenCV's result is 8-bit), Pad with grey 114, scale by 1/255; the image size is symbolic, the target
 * size and padding are inputs, so one session serves every image. Within one grey level of `letterbox.ts`'s
 * bit-exact resize (measured in tests/unit/preprocess.test.ts).
 */
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { OPSET } from '../engine/onnx-writer.js';
import type { Runner } from '../runtime/session.js';
import { letterboxFrame, PAD, type LetterboxFrame } from './letterbox.js';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

let bytes: Uint8Array | null = null;

function valueInfo(name: string, type: number, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const node = (
  opType: string,
  input: string[],
  output: string[],
  attribute: OnnxTypes.IAttributeProto[] = [],
): OnnxTypes.INodeProto => ({ opType, input, output, attribute, name: output[0] });

const str = (name: string, s: string): OnnxTypes.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.STRING,
  s: new TextEncoder().encode(s),
});

function scalar(name: string, type: number, value: number): OnnxTypes.ITensorProto {
  if (type === T.INT64) return { name, dataType: type, dims: [1], int64Data: [value] };
  return { name, dataType: type, dims: [], floatData: [value] };
}

/** The preprocessing model's bytes (built once). */
export function preprocessModelBytes(): Uint8Array {
  if (bytes) return bytes;
  const graph: OnnxTypes.IGraphProto = {
    name: 'letterbox',
    input: [
      valueInfo('image', T.UINT8, ['height', 'width', 3]),
      valueInfo('sizes', T.INT64, [4]),
      valueInfo('pads', T.INT64, [8]),
    ],
    output: [valueInfo('images', T.FLOAT, [1, 3, 'size', 'size'])],
    initializer: [scalar('axis0', T.INT64, 0), scalar('grey', T.FLOAT, PAD), scalar('inv255', T.FLOAT, 1 / 255)],
    node: [
      node(
        'Transpose',
        ['image'],
        ['chw'],
        [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [2, 0, 1] }],
      ),
      node('Unsqueeze', ['chw', 'axis0'], ['nchw']),
      node('Cast', ['nchw'], ['float'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }]),
      node(
        'Resize',
        ['float', '', '', 'sizes'],
        ['resized'],
        [str('mode', 'linear'), str('coordinate_transformation_mode', 'half_pixel')],
      ),
      // OpenCV's result is 8-bit: rounded (ORT's own 8-bit Resize truncates, which agrees less).
      node('Round', ['resized'], ['rounded']),
      node('Pad', ['rounded', 'pads', 'grey'], ['padded'], [str('mode', 'constant')]),
      node('Mul', ['padded', 'inv255'], ['images']),
    ],
  };
  const model: OnnxTypes.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'starling',
    graph,
  };
  bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return bytes;
}

/** Letterboxes decoded RGB bytes through the graph on `runner`; returns CHW floats and the frame. */
export async function letterboxOnnx(
  runner: Runner,
  rgb: Uint8Array,
  width: number,
  height: number,
  size: number,
): Promise<{ data: Float32Array } & LetterboxFrame> {
  const f = letterboxFrame(width, height, size);
  const out = await runner.run('letterbox', preprocessModelBytes, {
    image: { dtype: 'uint8', shape: [height, width, 3], data: rgb },
    sizes: { dtype: 'int64', shape: [4], data: [1, 3, f.h, f.w] },
    pads: {
      dtype: 'int64',
      shape: [8],
      data: [0, 0, f.padY, f.padX, 0, 0, size - f.h - f.padY, size - f.w - f.padX],
    },
  });
  return { data: out.images!.data as Float32Array, scale: f.scale, padX: f.padX, padY: f.padY };
}
