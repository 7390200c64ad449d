import onnx from 'onnx-proto';

/**
 * A graph with its batch dimension freed. The embedder's file fixes it at 1 (input, output and
 * one constant Reshape to [1, -1] before the last layer), so the faces of a photo would have to
 * run one at a time; with the dimension free they run as one batch, which on two intra-op threads
 * took 18.5 instead of 24.9 ms for five faces on the Intel Xeon of docs/engine.md. The liveness
 * model fixes only its input and output (its Reshape's shape is computed from the input's, as
 * PyTorch's `x.view(x.size(0), -1)` exports): freed, a face's crop and its mirror run as one batch
 * of two. Both give bitwise the same outputs as one image at a time (the convolutions compute
 * each image of a batch as they compute it alone).
 *
 * Applied in memory to bytes already checked against the manifest; anything in the graph that
 * does not look as described fails loudly rather than being guessed at.
 */
export function withFreeBatch(model: Uint8Array): Uint8Array {
  const m = onnx.onnx.ModelProto.decode(model);
  const g = m.graph;
  if (!g || g.input?.length !== 1 || g.output?.length !== 1) throw new Error('free batch: expected one input and one output');
  for (const value of [g.input[0], g.output[0]]) {
    const dims = value.type?.tensorType?.shape?.dim;
    if (!dims || Number(dims[0]?.dimValue) !== 1) throw new Error(`free batch: ${value.name} does not have a batch dimension of 1`);
    dims[0] = onnx.onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
  }
  const nodes = g.node ?? [];
  const reshapes = nodes.filter((n) => n.opType === 'Reshape');
  for (const node of reshapes) {
    const shape = (g.initializer ?? []).find((t) => t.name === node.input?.[1]);
    // A shape computed at run time (a Concat of the input's own dimensions) follows the batch.
    if (!shape && nodes.some((n) => n.opType === 'Concat' && n.output?.[0] === node.input?.[1])) continue;
    const raw = shape?.rawData;
    if (!shape || !raw || raw.byteLength !== 16) throw new Error(`free batch: Reshape ${node.name ?? ''} has neither a two-value constant shape nor a computed one`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (view.getBigInt64(0, true) !== 1n || view.getBigInt64(8, true) !== -1n) throw new Error('free batch: expected a Reshape to [1, -1]');
    // 0 copies the input's own first dimension (ONNX Reshape, allowzero 0): the batch.
    const freed = new Uint8Array(16);
    new DataView(freed.buffer).setBigInt64(8, -1n, true);
    shape.rawData = freed;
  }
  // Shapes inferred for the fixed batch would now be wrong; ORT infers them again.
  g.valueInfo = [];
  return onnx.onnx.ModelProto.encode(m).finish();
}
