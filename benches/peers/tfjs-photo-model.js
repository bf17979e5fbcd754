// The TensorFlow.js peer of the photo model (issue 15), built at run time from OUR safetensors bytes like the CNN
// peer (tfjs-model.js): the same weights, in TensorFlow's NHWC layout. Conv kernels [O, I, k, k] → [k, k, I, O],
// depthwise [C, 1, k, k] → [k, k, C, 1]; TF "same" padding as an explicit tf.pad then a "valid" convolution.
//
// The wasm backend has no kernel for the depthwise input gradient (DepthwiseConv2dNativeBackpropInput), so the
// depthwise convolution is wrapped in tf.customGrad with its VJP written from ops the backend has:
//   y = x ⋆ w (stride s, valid)  ⇒  ∂J/∂x = pad(dilate_s(∂J/∂y), k−1) ⋆ flip(w), per channel,
// where dilate_s puts s−1 zeros after every row and column of ∂J/∂y (done with reshape + pad) and the padding is
// k−1 before and H_in − s·H_out after, so the result has the input's size. Filter gradients are not needed.
import { parsePhotoModel, convGeometry } from './photo-weights.js';
import { convKernelToHwio, denseToInOut } from './safetensors.js';

/** Inserts s−1 zeros after each row and column of dy [N, H, W, C] → [N, sH, sW, C]. */
function dilate(tf, dy, s) {
  if (s === 1) return dy;
  const [n, h, w, c] = dy.shape;
  let t = tf.reshape(dy, [n * h, w, 1, c]);
  t = tf.pad(t, [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
  t = tf.reshape(t, [n, h, 1, s * w * c]);
  t = tf.pad(t, [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
  return tf.reshape(t, [n, s * h, s * w, c]);
}

/**
 * A "valid" depthwise convolution x ↦ x ⋆ filter (filter [k, k, C, 1], stride s) whose input gradient is the VJP
 * above, built from ops the wasm backend has. `flipped` is tf.reverse(filter, [0, 1]).
 */
export function depthwiseWithGrad(tf, filter, flipped, k, s) {
  return tf.customGrad((x, save) => {
    save([x]);
    return {
      value: tf.depthwiseConv2d(x, filter, s, 'valid'),
      gradFunc: (dy, [xs]) => {
        const [, hin, win] = xs.shape;
        const [, ho, wo] = dy.shape;
        const d = tf.pad(dilate(tf, dy, s), [[0, 0], [k - 1, hin - s * ho], [k - 1, win - s * wo], [0, 0]]);
        return [tf.depthwiseConv2d(d, flipped, 1, 'valid')];
      },
    };
  });
}

export function buildTfPhotoModel(tf, buffer) {
  const { inputShape, layers } = parsePhotoModel(buffer);
  const [C0, H0, W0] = inputShape;

  let [H, W] = [H0, W0];
  const bind = (ls) =>
    ls.map((spec) => {
      const l = { ...spec };
      switch (spec.type) {
        case 'conv2d':
        case 'depthwise_conv2d': {
          const g = convGeometry(spec, H, W);
          const [t, b, le, r] = g.pads;
          l.pads = t || b || le || r ? [[0, 0], [t, b], [le, r], [0, 0]] : null;
          [H, W] = g.out;
          const k = spec.kernel;
          const hwio = convKernelToHwio(spec.weight.data, spec.weight.shape);
          l.bias = tf.keep(tf.tensor1d(spec.bias.data));
          if (spec.type === 'conv2d') l.filter = tf.keep(tf.tensor4d(hwio, [k, k, spec.in_channels, spec.out_channels]));
          else {
            l.filter = tf.keep(tf.tensor4d(hwio, [k, k, spec.channels, 1]));
            l.flipped = tf.keep(tf.reverse(l.filter, [0, 1]));
            l.op = depthwiseWithGrad(tf, l.filter, l.flipped, k, spec.stride);
          }
          break;
        }
        case 'dense':
          l.w = tf.keep(tf.tensor2d(denseToInOut(spec.weight.data, spec.weight.shape), [spec.inputs, spec.outputs]));
          l.bias = tf.keep(tf.tensor1d(spec.bias.data));
          break;
        case 'normalize':
          l.mean = tf.keep(tf.tensor1d(spec.mean));
          l.std = tf.keep(tf.tensor1d(spec.std));
          break;
        case 'residual':
          l.body = bind(spec.body);
          break;
        case 'relu6':
        case 'relu':
        case 'global_avg_pool':
        case 'flatten':
          break;
        default:
          throw new Error(`tfjs-photo-model: layer type ${spec.type} not supported`);
      }
      return l;
    });
  const net = bind(layers);

  /** Runs layers on NHWC activations (a vector after global_avg_pool). */
  const run = (ls, h) => {
    for (const l of ls) {
      switch (l.type) {
        case 'normalize':
          h = tf.div(tf.sub(h, l.mean), l.std);
          break;
        case 'conv2d': {
          const p = l.pads ? tf.pad(h, l.pads) : h;
          h = tf.add(tf.conv2d(p, l.filter, l.stride, 'valid'), l.bias);
          break;
        }
        case 'depthwise_conv2d': {
          const p = l.pads ? tf.pad(h, l.pads) : h;
          h = tf.add(l.op(p), l.bias);
          break;
        }
        case 'relu6':
          h = tf.relu6(h);
          break;
        case 'relu':
          h = tf.relu(h);
          break;
        case 'residual':
          h = tf.add(h, run(l.body, h));
          break;
        case 'global_avg_pool':
          h = tf.mean(h, [1, 2]);
          break;
        case 'flatten':
          h = tf.reshape(h, [h.shape[0], -1]);
          break;
        case 'dense':
          h = tf.add(tf.matMul(h, l.w), l.bias);
          break;
      }
    }
    return h;
  };
  /** Logits [N, classes] of x: a tensor [N, C, H, W] (our layout). */
  const logits = (x) => run(net, tf.transpose(x, [0, 2, 3, 1]));
  const loss = (x, oneHot) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits(x)), oneHot), 1)));
  const classes = layers.at(-1).outputs;
  const keep = [];
  const collect = (ls) => ls.forEach((l) => (l.body ? collect(l.body) : keep.push(l.filter, l.flipped, l.bias, l.w, l.mean, l.std)));
  collect(net);
  return {
    inputShape,
    classes,
    logits,
    image: (pixels) => tf.tensor4d(pixels, [1, C0, H0, W0]),
    /** ∇ₓJ(x, y) of the cross-entropy, as a tensor [1, C, H, W]. */
    inputGradient: (x, label) => {
      const oneHot = tf.oneHot([label], classes).toFloat();
      return tf.grad((xx) => loss(xx, oneHot))(x);
    },
    dispose() {
      for (const t of keep) t?.dispose();
    },
  };
}
