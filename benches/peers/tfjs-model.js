// Builds a TensorFlow.js model from our safetensors bytes at run time: the *same weights* as the Rust engine.
// TensorFlow.js convolves in NHWC, we in NCHW: the input is transposed to NHWC, the conv kernels
// [out, in, k, k] → [k, k, in, out], and before `flatten` the activations go back to NCHW so the flattened
// order matches our dense layer's columns. `tf` is passed in (the UMD global of tf.min.js).
import { parseSafetensors, convKernelToHwio, denseToInOut } from './safetensors.js';

export function buildTfModel(tf, buffer) {
  const { architecture, inputShape, tensors } = parseSafetensors(buffer);
  const layers = architecture.map((spec, i) => {
    const w = tensors[`layers.${i}.weight`];
    const b = tensors[`layers.${i}.bias`];
    switch (spec.type) {
      case 'conv2d': {
        const k = spec.kernel;
        return {
          ...spec,
          filter: tf.keep(tf.tensor4d(convKernelToHwio(w.data, w.shape), [k, k, spec.in_channels, spec.out_channels])),
          bias: tf.keep(tf.tensor1d(b.data)),
        };
      }
      case 'dense':
        return {
          ...spec,
          w: tf.keep(tf.tensor2d(denseToInOut(w.data, w.shape), [spec.inputs, spec.outputs])),
          bias: tf.keep(tf.tensor1d(b.data)),
        };
      case 'relu':
      case 'flatten':
      case 'max_pool2d':
        return spec;
      default:
        throw new Error(`tfjs-model: layer type ${spec.type} not supported`);
    }
  });
  const [C, H, W] = inputShape;

  /** Logits [N, classes] of x: a tensor [N, C, H, W] (our layout). */
  function logits(x) {
    let h = x;
    let nhwc = false;
    for (const l of layers) {
      switch (l.type) {
        case 'conv2d': {
          if (!nhwc) {
            h = tf.transpose(h, [0, 2, 3, 1]);
            nhwc = true;
          }
          const p = l.padding;
          const same = l.stride === 1 && l.kernel === 2 * p + 1;
          if (p > 0 && !same) h = tf.pad(h, [[0, 0], [p, p], [p, p], [0, 0]]);
          h = tf.add(tf.conv2d(h, l.filter, l.stride, same ? 'same' : 'valid'), l.bias);
          break;
        }
        case 'max_pool2d':
          h = tf.maxPool(h, l.size, l.size, 'valid');
          break;
        case 'relu':
          h = tf.relu(h);
          break;
        case 'flatten':
          if (nhwc) {
            h = tf.transpose(h, [0, 3, 1, 2]);
            nhwc = false;
          }
          h = tf.reshape(h, [h.shape[0], -1]);
          break;
        case 'dense':
          h = tf.add(tf.matMul(h, l.w), l.bias);
          break;
      }
    }
    return h;
  }

  /** Mean cross-entropy J = −log softmax(f(x))_y over the batch. */
  const loss = (x, oneHot) => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits(x)), oneHot), 1)));

  return {
    inputShape,
    classes: layers.filter((l) => l.type === 'dense').at(-1).outputs,
    logits,
    image: (pixels) => tf.tensor4d(pixels, [1, C, H, W]),
    /** ∇ₓJ(x, y) as a tensor [1, C, H, W]. */
    inputGradient: (x, label, classes) => {
      const oneHot = tf.oneHot([label], classes).toFloat();
      return tf.grad((xx) => loss(xx, oneHot))(x);
    },
    dispose() {
      for (const l of layers) for (const t of [l.filter, l.w, l.bias]) t?.dispose();
    },
  };
}
