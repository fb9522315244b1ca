export class MnasNet {
  static async load(bytes) { return new MnasNet(); }
  run(x) { return { logits: new Float32Array(10).fill(1) }; }
  dispose() {}
}
