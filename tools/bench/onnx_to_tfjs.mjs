// ONNX -> TensorFlow.js (tfjs-core ops) graph rebuilder, for benchmarking only.
//
// TensorFlow.js cannot read ONNX files, so the benchmark parses the ONNX file
// with the minimal protobuf reader in onnx_proto.mjs and re-expresses the same
// graph with tfjs-core ops. Isomorphic: `tf` is passed in (Node: the
// @tensorflow/tfjs-core module, browsers: the UMD global), nothing else is
// imported.
//
// Layout: tfjs-wasm convolutions only run NHWC, so every 4-D activation is kept
// in NHWC internally (one transpose of the NCHW input at the start, one back for
// a 4-D graph output). Weights are re-laid out once at load time:
//   Conv group=1       W[O,I,kh,kw]   -> filter [kh,kw,I,O]   (tf.conv2d)
//   Conv depthwise     W[C*m,1,kh,kw] -> filter [kh,kw,C,m]   (tf.depthwiseConv2d)
//   Gemm               B (transB)     -> [K,N] * alpha, bias C * beta
// Conv followed only by Relu or Clip(0,6) is fused into tf.fused.conv2d /
// tf.fused.depthwiseConv2d (what the TF.js converter itself does), and Gemm
// uses tf.fused.matMul with its bias. ONNX explicit pads are passed as tfjs
// explicit padding unless they equal 'valid' or TF 'same' for that input size.
//
// Supported ops: Conv (group 1 and depthwise), Relu, Clip, Sigmoid, HardSigmoid,
// HardSwish, Add, Sub, Mul, Div, ReduceMean, GlobalAveragePool, Reshape,
// Flatten, Gemm, MatMul, Identity, Dropout, Constant. Anything else throws at
// load time with the op name.

import { parseOnnx, DataType } from './onnx_proto.mjs';

const NCHW_TO_NHWC_AXIS = [0, 3, 1, 2]; // logical NCHW axis -> physical NHWC axis

function constToNumbers(c) {
  return Array.from(c.data, (v) => Number(v));
}

/**
 * Build a runnable tfjs model from ONNX bytes.
 * @param tf tfjs-core module/namespace with a backend already set.
 * @param {Uint8Array} bytes ONNX model.
 * @param {{fuse?: boolean}} [opts]
 * @returns {{ run(input: Float32Array): Float32Array, dispose(): void,
 *             inputName: string, inputShape: number[], outputName: string, opCounts: object }}
 */
export function buildTfjsModel(tf, bytes, opts = {}) {
  const fuse = opts.fuse !== false;
  const model = parseOnnx(bytes);
  const g = model.graph;
  if (g.inputs.length !== 1 || g.outputs.length !== 1) {
    throw new Error(`onnx_to_tfjs: expected 1 input and 1 output, got ${g.inputs.length}/${g.outputs.length}`);
  }
  const inputName = g.inputs[0].name;
  const inputShape = g.inputs[0].shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const outputName = g.outputs[0].name;

  // Constant values known at load time: { dims, data } (typed arrays).
  const consts = new Map(g.initializers);
  const owned = []; // tf tensors created at load time (weights) to dispose

  const consumers = new Map(); // value name -> nodes reading it
  for (const n of g.nodes) for (const i of n.inputs) if (i) { if (!consumers.has(i)) consumers.set(i, []); consumers.get(i).push(n); }

  const constTensor = (name) => {
    const c = consts.get(name);
    if (!c) return null;
    if (!c.tf) {
      const isFloat = c.data instanceof Float32Array;
      c.tf = tf.tensor(isFloat ? c.data : Int32Array.from(c.data, Number), c.dims, isFloat ? 'float32' : 'int32');
      owned.push(c.tf);
    }
    return c.tf;
  };

  const steps = []; // closures (env) => void, executed in order inside tf.tidy
  const opCounts = {};
  const skip = new Set(); // nodes fused into a previous step

  const isClip06 = (n) => {
    if (n.opType !== 'Clip') return false;
    let lo = n.attrs.min, hi = n.attrs.max;
    if (n.inputs[1]) { const c = consts.get(n.inputs[1]); if (!c) return false; lo = Number(c.data[0]); }
    if (n.inputs[2]) { const c = consts.get(n.inputs[2]); if (!c) return false; hi = Number(c.data[0]); }
    return lo === 0 && hi === 6;
  };

  // Value in env: { t: tf.Tensor, nhwc: boolean } ; nhwc => physical NHWC of logical NCHW.
  const get = (env, name) => {
    const v = env.get(name);
    if (v) return v;
    if (consts.has(name)) return { t: constTensor(name), nhwc: false, isConst: true };
    throw new Error(`onnx_to_tfjs: value '${name}' not computed`);
  };
  const toNchw = (v) => (v.nhwc ? tf.transpose(v.t, [0, 3, 1, 2]) : v.t);
  // Bring operand b into a layout broadcast-compatible with NHWC operand a.
  const alignTo = (b) => {
    if (b.nhwc) return b.t;
    const r = b.t.rank;
    if (r > 4) throw new Error('onnx_to_tfjs: rank > 4 broadcast');
    const shape4 = [...Array(4 - r).fill(1), ...b.t.shape];
    return tf.transpose(tf.reshape(b.t, shape4), [0, 2, 3, 1]);
  };

  const nodes = g.nodes;
  for (let idx = 0; idx < nodes.length; idx++) {
    const n = nodes[idx];
    if (skip.has(n)) continue;
    opCounts[n.opType] = (opCounts[n.opType] || 0) + 1;
    if (n.domain && n.domain !== 'ai.onnx') throw new Error(`onnx_to_tfjs: unsupported domain ${n.domain} (${n.opType})`);
    const [in0, in1, in2] = n.inputs;
    const out = n.outputs[0];
    const A = n.attrs;
    switch (n.opType) {
      case 'Conv': {
        const w = consts.get(in1);
        if (!w) throw new Error(`onnx_to_tfjs: Conv '${n.name}' weight is not a constant`);
        const [O, Ig, kh, kw] = w.dims;
        const group = A.group ?? 1;
        const strides = A.strides ?? [1, 1];
        const dil = A.dilations ?? [1, 1];
        const autoPad = A.auto_pad ?? 'NOTSET';
        const pads = A.pads ?? [0, 0, 0, 0];
        const wT = tf.tensor4d(w.data, w.dims);
        let filter, depthwise;
        if (group === 1) {
          filter = tf.transpose(wT, [2, 3, 1, 0]);
          depthwise = false;
        } else if (Ig === 1 && O % group === 0) {
          const m = O / group;
          filter = tf.transpose(tf.reshape(wT, [group, m, kh, kw]), [2, 3, 0, 1]);
          depthwise = true;
        } else {
          throw new Error(`onnx_to_tfjs: grouped Conv '${n.name}' (group=${group}) not supported`);
        }
        wT.dispose();
        owned.push(filter);
        let bias = null;
        if (in2) { bias = tf.tensor1d(consts.get(in2).data); owned.push(bias); }
        // Fuse a following Relu / Clip(0,6) when it is the only consumer.
        let activation = 'linear';
        let finalOut = out;
        const users = consumers.get(out) || [];
        const next = users.length === 1 ? users[0] : null;
        if (fuse && next && next.inputs[0] === out && out !== outputName) {
          if (next.opType === 'Relu') activation = 'relu';
          else if (isClip06(next)) activation = 'relu6';
          if (activation !== 'linear') { skip.add(next); finalOut = next.outputs[0]; opCounts[next.opType + '(fused)'] = (opCounts[next.opType + '(fused)'] || 0) + 1; }
        }
        const padCache = new Map();
        const padFor = (H, W) => {
          const key = H * 100003 + W;
          let p = padCache.get(key);
          if (p !== undefined) return p;
          const same = (inn, k, s, d) => {
            const eff = (k - 1) * d + 1;
            const outn = Math.ceil(inn / s);
            const total = Math.max((outn - 1) * s + eff - inn, 0);
            return [Math.floor(total / 2), total - Math.floor(total / 2)];
          };
          let t, l, b, r;
          if (autoPad === 'VALID') [t, l, b, r] = [0, 0, 0, 0];
          else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
            const [ht, hb] = same(H, kh, strides[0], dil[0]);
            const [wl, wr] = same(W, kw, strides[1], dil[1]);
            if (autoPad === 'SAME_UPPER') [t, l, b, r] = [ht, wl, hb, wr];
            else [t, l, b, r] = [hb, wr, ht, wl];
          } else [t, l, b, r] = pads;
          const [st, sb] = same(H, kh, strides[0], dil[0]);
          const [sl, sr] = same(W, kw, strides[1], dil[1]);
          if (t === 0 && l === 0 && b === 0 && r === 0) p = 'valid';
          else if (t === st && b === sb && l === sl && r === sr) p = 'same';
          else p = [[0, 0], [t, b], [l, r], [0, 0]];
          padCache.set(key, p);
          return p;
        };
        steps.push((env) => {
          const xv = get(env, in0);
          const x = xv.nhwc ? xv.t : tf.transpose(xv.t, [0, 2, 3, 1]);
          const pad = padFor(x.shape[1], x.shape[2]);
          const args = { x, filter, strides, pad, dilations: dil, bias: bias ?? undefined, activation };
          const y = depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
          env.set(finalOut, { t: y, nhwc: true });
        });
        break;
      }
      case 'Relu':
        steps.push((env) => { const v = get(env, in0); env.set(out, { t: tf.relu(v.t), nhwc: v.nhwc }); });
        break;
      case 'Sigmoid':
        steps.push((env) => { const v = get(env, in0); env.set(out, { t: tf.sigmoid(v.t), nhwc: v.nhwc }); });
        break;
      case 'Clip': {
        let lo = A.min ?? -Infinity, hi = A.max ?? Infinity;
        if (in1) lo = Number(consts.get(in1)?.data[0] ?? NaN);
        if (in2) hi = Number(consts.get(in2)?.data[0] ?? NaN);
        if (Number.isNaN(lo) || Number.isNaN(hi)) throw new Error(`onnx_to_tfjs: Clip '${n.name}' bounds are not constants`);
        const relu6 = lo === 0 && hi === 6;
        steps.push((env) => {
          const v = get(env, in0);
          env.set(out, { t: relu6 ? tf.relu6(v.t) : tf.clipByValue(v.t, lo, hi), nhwc: v.nhwc });
        });
        break;
      }
      case 'HardSigmoid': {
        const alpha = A.alpha ?? 0.2, beta = A.beta ?? 0.5;
        steps.push((env) => {
          const v = get(env, in0);
          env.set(out, { t: tf.clipByValue(tf.add(tf.mul(v.t, alpha), beta), 0, 1), nhwc: v.nhwc });
        });
        break;
      }
      case 'HardSwish':
        steps.push((env) => {
          const v = get(env, in0);
          env.set(out, { t: tf.mul(v.t, tf.div(tf.relu6(tf.add(v.t, 3)), 6)), nhwc: v.nhwc });
        });
        break;
      case 'Add': case 'Sub': case 'Mul': case 'Div': {
        const fn = { Add: tf.add, Sub: tf.sub, Mul: tf.mul, Div: tf.div }[n.opType];
        steps.push((env) => {
          const a = get(env, in0), b = get(env, in1);
          let y, nhwc;
          if (a.nhwc || b.nhwc) {
            y = fn(a.nhwc ? a.t : alignTo(a), b.nhwc ? b.t : alignTo(b));
            nhwc = true;
          } else { y = fn(a.t, b.t); nhwc = false; }
          env.set(out, { t: y, nhwc });
        });
        break;
      }
      case 'ReduceMean': case 'GlobalAveragePool': {
        let axes;
        let keep = true;
        if (n.opType === 'GlobalAveragePool') axes = [2, 3];
        else {
          keep = (A.keepdims ?? 1) === 1;
          if (A.axes) axes = A.axes;
          else if (in1) axes = constToNumbers(consts.get(in1));
          else axes = null; // all axes (noop_with_empty_axes=0)
        }
        steps.push((env) => {
          const v = get(env, in0);
          const rank = v.t.rank;
          const ax = (axes ?? [...Array(rank).keys()]).map((a) => (a < 0 ? a + rank : a));
          if (v.nhwc) {
            const phys = ax.map((a) => NCHW_TO_NHWC_AXIS[a]);
            const spatialOnly = ax.every((a) => a === 2 || a === 3);
            if (keep) { env.set(out, { t: tf.mean(v.t, phys, true), nhwc: true }); return; }
            if (spatialOnly && ax.length === 2) { env.set(out, { t: tf.mean(v.t, phys, false), nhwc: false }); return; }
            env.set(out, { t: tf.mean(toNchw(v), ax, false), nhwc: false });
            return;
          }
          env.set(out, { t: tf.mean(v.t, ax, keep), nhwc: false });
        });
        break;
      }
      case 'Reshape': case 'Flatten': {
        let shapeFn;
        if (n.opType === 'Flatten') {
          const axis = A.axis ?? 1;
          shapeFn = (s) => {
            const a = axis < 0 ? axis + s.length : axis;
            return [s.slice(0, a).reduce((p, q) => p * q, 1), s.slice(a).reduce((p, q) => p * q, 1)];
          };
        } else {
          const c = consts.get(in1);
          if (!c) throw new Error(`onnx_to_tfjs: Reshape '${n.name}' shape is not a constant`);
          const target = constToNumbers(c);
          const allowzero = (A.allowzero ?? 0) === 1;
          shapeFn = (s) => target.map((d, i) => (d === 0 && !allowzero ? s[i] : d));
        }
        steps.push((env) => {
          const v = get(env, in0);
          const logical = v.nhwc ? [v.t.shape[0], v.t.shape[3], v.t.shape[1], v.t.shape[2]] : v.t.shape;
          // NHWC with H=W=1 has the same element order as NCHW: no transpose needed.
          const src = v.nhwc && !(logical[2] === 1 && logical[3] === 1) ? toNchw(v) : v.t;
          env.set(out, { t: tf.reshape(src, shapeFn(logical)), nhwc: false });
        });
        break;
      }
      case 'Gemm': {
        const alpha = A.alpha ?? 1, beta = A.beta ?? 1;
        const transA = (A.transA ?? 0) === 1, transB = (A.transB ?? 0) === 1;
        const bc = consts.get(in1);
        let bT;
        if (bc) {
          let bt = tf.tensor2d(bc.data, bc.dims);
          if (transB) { const t2 = tf.transpose(bt); bt.dispose(); bt = t2; }
          if (alpha !== 1) { const t2 = tf.mul(bt, alpha); bt.dispose(); bt = t2; }
          bT = bt; owned.push(bT);
        }
        let bias = null;
        if (in2) {
          const cc = consts.get(in2);
          if (!cc) throw new Error(`onnx_to_tfjs: Gemm '${n.name}' bias is not a constant`);
          bias = tf.tensor(Float32Array.from(cc.data, (x) => x * beta), cc.dims);
          owned.push(bias);
        }
        steps.push((env) => {
          const a = get(env, in0);
          let b = bT;
          if (!b) { b = get(env, in1).t; if (transB) b = tf.transpose(b); if (alpha !== 1) b = tf.mul(b, alpha); }
          const y = tf.fused.matMul({ a: a.t, b, transposeA: transA, transposeB: false, bias: bias ?? undefined });
          env.set(out, { t: y, nhwc: false });
        });
        break;
      }
      case 'MatMul':
        steps.push((env) => {
          const a = get(env, in0), b = get(env, in1);
          if (a.nhwc || b.nhwc) throw new Error('onnx_to_tfjs: MatMul on 4-D activations not supported');
          env.set(out, { t: tf.matMul(a.t, b.t), nhwc: false });
        });
        break;
      case 'Identity': case 'Dropout':
        steps.push((env) => { env.set(out, get(env, in0)); });
        break;
      case 'Constant': {
        const t = A.value;
        if (!t) throw new Error(`onnx_to_tfjs: Constant '${n.name}' without a tensor value`);
        consts.set(out, t);
        break;
      }
      default:
        throw new Error(`onnx_to_tfjs: unsupported op ${n.opType} (node '${n.name}')`);
    }
  }

  return {
    inputName, inputShape, outputName, opCounts,
    opsetVersion: model.opsets[''] ?? null,
    run(input) {
      const y = tf.tidy(() => {
        const env = new Map();
        const x = tf.tensor4d(input, inputShape);
        env.set(inputName, { t: tf.transpose(x, [0, 2, 3, 1]), nhwc: true });
        for (const s of steps) s(env);
        const o = env.get(outputName);
        return o.nhwc ? tf.transpose(o.t, [0, 3, 1, 2]) : o.t;
      });
      const data = y.dataSync();
      y.dispose();
      return data;
    },
    dispose() { for (const t of owned) t.dispose(); owned.length = 0; },
  };
}

export { parseOnnx, DataType };
