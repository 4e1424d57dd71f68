/**
 * The functional API over the IR, PyTorch-style: `F.conv2d(x, w)`, `F.silu(x)`, `F.add(a, b)`.
 * Each op family lives in its own file under ops/ with its shape rule, ONNX emission, gradient and
 * reference evaluation.
 */
export * from './ops/activation.js';
export * from './ops/conv.js';
export * from './ops/detection.js';
export * from './ops/elementwise.js';
export * from './ops/index-ops.js';
export * from './ops/matmul.js';
export * from './ops/norm.js';
export * from './ops/pool.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
