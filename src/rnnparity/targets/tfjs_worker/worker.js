'use strict';
/*
 * The node side of the `tfjs` target (rnnparity/targets/tfjs.py): TensorFlow.js layers on its cpu
 * backend, spoken to over stdin/stdout with length-prefixed JSON frames (a 4-byte big-endian length,
 * then UTF-8 JSON). Started by the Python side with NODE_PATH pointing at the installed packages
 * (rnnparity install-tfjs); never by hand.
 *
 * Requests ({"op": ...}) and replies ({"ok": true, ...} or {"ok": false, "type", "message", "stack"}):
 *   versions                                   -> {versions: {package: version}, backend}
 *   build {model, weights}                     -> {handle, config, weights: [shape]}: the layer of a
 *        layers-format model topology loaded by tf.models.modelFromJSON (what loadLayersModel does
 *        with a model.json), its weights set with setWeights
 *   call {handle, x, mask, initial_state}      -> {outputs: [array]}: layer.apply on concrete tensors
 *   reset {handle}                             -> {}: layer.resetStates()
 *   dispose {handle}                           -> {}
 * Arrays: {dtype: "float32" | "int32" | "bool", shape, data: base64 of the little-endian bytes}.
 * Everything TF.js prints goes to stderr (a log file on the Python side), never into the protocol.
 */
const util = require('util');

for (const name of ['log', 'info', 'warn', 'error', 'debug']) {
  console[name] = (...args) => process.stderr.write(util.format(...args) + '\n');
}

// The union package: tfjs-core's own Node bundle does not register the chained tensor methods
// (t.flatten(), ...) that tfjs-layers calls (without them: "rMat.flatten is not a function").
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-cpu');

const TYPED = {float32: Float32Array, int32: Int32Array, bool: Uint8Array};
const layers = new Map();
let nextHandle = 1;

function toTensor(a) {
  if (a == null) return null;
  const bytes = Buffer.from(a.data, 'base64');
  const Typed = TYPED[a.dtype];
  if (Typed === undefined) throw new TypeError(`array dtype ${a.dtype}: TensorFlow.js has float32, int32 and bool`);
  const copy = new Uint8Array(bytes);  // aligned for the typed view
  return tf.tensor(new Typed(copy.buffer, 0, copy.byteLength / Typed.BYTES_PER_ELEMENT), a.shape, a.dtype);
}

function fromTensor(t) {
  const values = t.dataSync();
  return {dtype: t.dtype, shape: t.shape,
          data: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64')};
}

function layerOf(handle) {
  const layer = layers.get(handle);
  if (layer === undefined) throw new Error(`no layer with handle ${handle}`);
  return layer;
}

function packageVersion(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch (e) {
    return 'not installed';
  }
}

const OPS = {
  versions() {
    const names = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers',
                   '@tensorflow/tfjs-backend-cpu'];
    return {versions: Object.fromEntries(names.map(n => [n, packageVersion(n)])),
            node: process.version, backend: tf.getBackend()};
  },

  async build(req) {
    const model = await tf.models.modelFromJSON(req.model);
    const layer = model.layers[model.layers.length - 1];
    const weights = req.weights.map(toTensor);
    try {
      layer.setWeights(weights);
    } finally {
      weights.forEach(w => w.dispose());
    }
    const handle = nextHandle++;
    layers.set(handle, layer);
    return {handle, class_name: layer.getClassName(), config: layer.getConfig(),
            weights: layer.weights.map(w => w.shape)};
  },

  call(req) {
    const layer = layerOf(req.handle);
    const kwargs = {};
    const owned = [];
    const x = toTensor(req.x);
    owned.push(x);
    if (req.mask != null) {
      kwargs.mask = toTensor(req.mask);
      owned.push(kwargs.mask);
    }
    if (req.initial_state != null) {
      kwargs.initialState = req.initial_state.map(toTensor);
      owned.push(...kwargs.initialState);
    }
    try {
      const out = layer.apply(x, kwargs);
      const flat = Array.isArray(out) ? out : [out];
      const outputs = flat.map(fromTensor);
      flat.forEach(t => t.dispose());
      return {outputs};
    } finally {
      owned.forEach(t => t.dispose());
    }
  },

  reset(req) {
    layerOf(req.handle).resetStates();
    return {};
  },

  dispose(req) {
    const layer = layers.get(req.handle);
    layers.delete(req.handle);
    if (layer !== undefined) layer.dispose();
    return {};
  },
};

function send(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  process.stdout.write(Buffer.concat([head, body]));
}

async function handle(request) {
  try {
    const op = OPS[request.op];
    if (op === undefined) throw new Error(`unknown op ${JSON.stringify(request.op)}`);
    send({ok: true, ...(await op(request))});
  } catch (e) {
    send({ok: false, type: (e && e.name) || 'Error', message: String((e && e.message) || e),
          stack: String((e && e.stack) || '')});
  }
}

async function main() {
  await tf.setBackend('cpu');
  let pending = Buffer.alloc(0);
  let queue = Promise.resolve();
  process.stdin.on('data', chunk => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readUInt32BE(0);
      if (pending.length < 4 + size) break;
      const request = JSON.parse(pending.subarray(4, 4 + size).toString('utf8'));
      pending = pending.subarray(4 + size);
      if (request.op === 'exit') {
        queue.then(() => process.exit(0));
        return;
      }
      queue = queue.then(() => handle(request));
    }
  });
  process.stdin.on('end', () => queue.then(() => process.exit(0)));
  // leave when the parent is gone (its end of stdin may stay open in a grandchild)
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(3); }, 1000).unref();
}

main();
