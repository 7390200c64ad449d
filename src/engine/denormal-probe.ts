import onnxProto from 'onnx-proto';
import { ort, sessionOptions } from './models.js';

const { onnx } = onnxProto;

/**
 * A one-node graph, y = x · x, built here rather than shipped: squaring 1e-20 gives 1e-40, a
 * denormal float, which a thread in flush-to-zero mode returns as 0. It runs under the very
 * options the engine's sessions use, on the thread that asks, so it tells whether inference on
 * this thread computes with denormals (slow on some CPUs) or flushes them.
 */
function probeModel(): Uint8Array {
  const float = onnx.TensorProto.DataType.FLOAT;
  const vector = (name: string) => ({ name, type: { tensorType: { elemType: float, shape: { dim: [{ dimValue: 2 }] } } } });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'facerec denormal probe',
    graph: { name: 'square', node: [{ opType: 'Mul', input: ['x', 'x'], output: ['y'], name: 'square' }], input: [vector('x')], output: [vector('y')] },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** True when a session created with these options (the engine's by default) flushes denormals on this thread. */
export async function flushesDenormals(options: ort.InferenceSession.SessionOptions = sessionOptions()): Promise<boolean> {
  const session = await ort.InferenceSession.create(probeModel(), options);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1e-20, 1]), [2]) });
    const y = out.y.data as Float32Array;
    return y[0] === 0 && y[1] === 1;
  } finally {
    await session.release();
  }
}

/**
 * Puts this thread into flush-to-zero mode, if ORT still can: creating a session with the flag
 * does it for the creating thread, once per process (models.ts). Threads this one spawns later
 * inherit the mode. Returns whether this thread now flushes.
 */
export async function flushDenormalsOnThisThread(): Promise<boolean> {
  return flushesDenormals(sessionOptions({ executionMode: 'sequential', flushDenormals: true }));
}
