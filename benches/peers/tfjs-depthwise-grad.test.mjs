// The hand-written depthwise input gradient of the TensorFlow.js photo peer (tfjs-photo-model.js) against
// TensorFlow.js's own kernel on the cpu backend (which has DepthwiseConv2dNativeBackpropInput; the wasm backend
// lacks it, hence the customGrad): k = 3 and 5, stride 1 and 2, odd and even sizes, as the network uses them.
//   node --test benches/peers/tfjs-depthwise-grad.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { depthwiseWithGrad } from './tfjs-photo-model.js';

const tf = createRequire(import.meta.url)('@tensorflow/tfjs/dist/tf.node.js');

test('customGrad depthwise VJP equals tfjs cpu kernel', async () => {
  await tf.setBackend('cpu');
  for (const [k, s, H, C] of [[3, 1, 7, 4], [3, 2, 9, 3], [3, 2, 8, 2], [5, 1, 8, 3], [5, 2, 10, 2], [5, 2, 13, 2]]) {
    const x = tf.randomNormal([1, H, H + 1, C], 0, 1, 'float32', 1);
    const f = tf.randomNormal([k, k, C, 1], 0, 1, 'float32', 2);
    const op = depthwiseWithGrad(tf, f, tf.reverse(f, [0, 1]), k, s);
    const w = tf.randomNormal(op(x).shape, 0, 1, 'float32', 3);
    const ours = tf.grad((v) => tf.sum(tf.mul(op(v), w)))(x);
    const ref = tf.grad((v) => tf.sum(tf.mul(tf.depthwiseConv2d(v, f, s, 'valid'), w)))(x);
    assert.deepEqual(ours.shape, ref.shape);
    const diff = tf.max(tf.abs(tf.sub(ours, ref))).dataSync()[0];
    const scale = tf.max(tf.abs(ref)).dataSync()[0];
    assert.ok(scale > 1, `k=${k} s=${s}: gradient is not trivial`);
    assert.ok(diff <= 1e-5 * scale, `k=${k} s=${s} H=${H}: max |Δ| ${diff} of ${scale}`);
  }
});
