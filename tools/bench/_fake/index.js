const ortUrl = typeof window !== 'undefined' ? '/node_modules/onnxruntime-web/dist/ort.wasm.bundle.min.mjs' : 'onnxruntime-web/wasm';
export class MnasNet {
  static async load(bytes) {
    const ort = await import(ortUrl);
    ort.env.wasm.numThreads = 1;
    const s = await ort.InferenceSession.create(bytes);
    const n = new MnasNet(); n.s = s; n.ort = ort; return n;
  }
  async run(x, opts) {
    const hw = Math.round(Math.sqrt(x.length / 3));
    const r = await this.s.run({ [this.s.inputNames[0]]: new this.ort.Tensor('float32', x, [1, 3, hw, hw]) });
    return { logits: r[this.s.outputNames[0]].data };
  }
  dispose() { this.s.release(); }
}
export const version = 'fake-0';
