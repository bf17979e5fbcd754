// Writes an ONNX model (opset 13) of the photo model from OUR safetensors bytes, for the ONNX Runtime Web peer
// (issue 15). The protobuf is encoded here by hand (field numbers from onnx/onnx.proto): no onnx package needed,
// and the bench page builds the same bytes at run time that benches/peers/onnx-export.mjs writes to a file.
// Layout is NCHW like ours, so conv weights [O, I/group, k, k] go in unchanged. Layers:
//   normalize → Sub(mean) then Div(std), per channel [1, C, 1, 1]
//   conv2d / depthwise_conv2d → Conv with explicit pads [top, left, bottom, right] (TF "same" is asymmetric at
//     stride 2), group = C for depthwise
//   relu6 → Clip(0, 6); relu → Relu; residual → Add(input, body(input))
//   global_avg_pool → GlobalAveragePool then Flatten; dense → Gemm(transB = 1)
import { parsePhotoModel, convGeometry } from './photo-weights.js';

// --- protobuf wire format ----------------------------------------------------------------------------------
const enc = new TextEncoder();
function varint(n) {
  const out = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const concat = (parts) => {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const r = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    r.set(p, o);
    o += p.length;
  }
  return r;
};
/** Field `f` as varint (wire type 0). */
const vi = (f, n) => Uint8Array.from([...varint((f << 3) | 0), ...varint(n)]);
/** Field `f` length-delimited (wire type 2): bytes, string or a sub-message. */
const ld = (f, bytes) => {
  const b = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
  return concat([Uint8Array.from([...varint((f << 3) | 2), ...varint(b.length)]), b]);
};
const msg = (...parts) => concat(parts.flat());

// --- ONNX messages ------------------------------------------------------------------------------------------
const FLOAT = 1;
/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian f32). */
const tensorProto = (name, dims, data) =>
  msg(dims.map((d) => vi(1, d)), vi(2, FLOAT), ld(8, name), ld(9, new Uint8Array(Float32Array.from(data).buffer)));
/** AttributeProto: name = 1, i = 3, ints = 8, type = 20 (INT = 2, INTS = 7). */
const attrInt = (name, i) => msg(ld(1, name), vi(3, i), vi(20, 2));
const attrInts = (name, xs) => msg(ld(1, name), xs.map((x) => vi(8, x)), vi(20, 7));
/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
const node = (op, inputs, outputs, name, attrs = []) =>
  msg(inputs.map((s) => ld(1, s)), outputs.map((s) => ld(2, s)), ld(3, name), ld(4, op), attrs.map((a) => ld(5, a)));
/** ValueInfoProto name = 1, type = 2 → TypeProto.tensor_type = 1 → {elem_type = 1, shape = 2 → dim = 1 → dim_value = 1}. */
const valueInfo = (name, dims) =>
  msg(ld(1, name), ld(2, ld(1, msg(vi(1, FLOAT), ld(2, msg(dims.map((d) => ld(1, vi(1, d)))))))));

/** The ONNX bytes (Uint8Array) of the model in `buffer` (our safetensors), for a batch of `batch` images. */
export function buildOnnx(buffer, { batch = 1 } = {}) {
  const { meta, inputShape, layers } = parsePhotoModel(buffer);
  const nodes = [];
  const inits = [];
  let seq = 0;
  const fresh = (p) => `${p}_${seq++}`;
  const init = (name, dims, data) => {
    inits.push(tensorProto(name, dims, data));
    return name;
  };
  const zero = init('clip_min', [], [0]);
  const six = init('clip_max', [], [6]);
  let [C, H, W] = inputShape;
  let spatial = true;
  const emit = (ls, x, prefix) => {
    ls.forEach((l, i) => {
      const id = `${prefix}${i}`;
      const y = fresh(l.type);
      switch (l.type) {
        case 'normalize': {
          const m = init(`${id}.mean`, [1, C, 1, 1], l.mean);
          const s = init(`${id}.std`, [1, C, 1, 1], l.std);
          const t = fresh('centred');
          nodes.push(node('Sub', [x, m], [t], `${id}.sub`), node('Div', [t, s], [y], `${id}.div`));
          break;
        }
        case 'conv2d':
        case 'depthwise_conv2d': {
          const { out, pads } = convGeometry(l, H, W);
          const [top, bottom, left, right] = pads;
          const w = init(`${id}.weight`, l.weight.shape, l.weight.data);
          const b = init(`${id}.bias`, l.bias.shape, l.bias.data);
          const group = l.type === 'depthwise_conv2d' ? l.channels : 1;
          nodes.push(
            node('Conv', [x, w, b], [y], id, [
              attrInts('kernel_shape', [l.kernel, l.kernel]),
              attrInts('strides', [l.stride, l.stride]),
              attrInts('pads', [top, left, bottom, right]),
              attrInt('group', group),
            ]),
          );
          C = l.weight.shape[0];
          [H, W] = out;
          break;
        }
        case 'relu6':
          nodes.push(node('Clip', [x, zero, six], [y], id));
          break;
        case 'relu':
          nodes.push(node('Relu', [x], [y], id));
          break;
        case 'residual': {
          const body = emit(l.body, x, `${id}.`);
          nodes.push(node('Add', [x, body], [y], `${id}.add`));
          break;
        }
        case 'global_avg_pool': {
          const t = fresh('pooled');
          nodes.push(node('GlobalAveragePool', [x], [t], id), node('Flatten', [t], [y], `${id}.flatten`, [attrInt('axis', 1)]));
          spatial = false;
          break;
        }
        case 'flatten':
          nodes.push(node('Flatten', [x], [y], id, [attrInt('axis', 1)]));
          spatial = false;
          break;
        case 'dense': {
          const w = init(`${id}.weight`, l.weight.shape, l.weight.data);
          const b = init(`${id}.bias`, l.bias.shape, l.bias.data);
          nodes.push(node('Gemm', [x, w, b], [y], id, [attrInt('transB', 1)]));
          C = l.outputs;
          break;
        }
        default:
          throw new Error(`onnx-model: layer type ${l.type} not supported`);
      }
      x = y;
    });
    return x;
  };
  const out = emit(layers, 'x', 'layers.');
  if (spatial) throw new Error('onnx-model: the network does not end in a vector');
  nodes.push(node('Identity', [out], ['logits'], 'output'));
  const graph = msg(
    nodes.map((n) => ld(1, n)),
    ld(2, meta.name || 'advlab'),
    inits.map((t) => ld(5, t)),
    ld(11, valueInfo('x', [batch, ...inputShape])),
    ld(12, valueInfo('logits', [batch, C])),
  );
  // ModelProto: ir_version = 1 (8), producer_name = 2, graph = 7, opset_import = 8 → {domain = 1, version = 2}.
  return msg(vi(1, 8), ld(2, 'advlab benches/peers/onnx-model.js'), ld(7, graph), ld(8, msg(ld(1, ''), vi(2, 13))));
}
