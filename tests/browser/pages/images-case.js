// One case of the browser images test, on the page or in a worker: image
// files given as a File, a Blob and bytes, classified through the SDK's
// asynchronous decoding; plus the pixels the browser decodes a JPEG to, and
// what a canvas makes of a semi-transparent PNG (a measurement, not the
// SDK's PNG path), for the test to compare with Node.
import { MnasNet } from '../../../js/src/index.js';

const logits = (r) => Array.from(r.logits);

async function bitmapPixels(blob) {
  const bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return Array.from(ctx.getImageData(0, 0, c.width, c.height).data);
}

/** images: [{png, jpeg}] as arrays of bytes; alphaPng: a PNG with alpha 128. */
export async function runImages({ images, alphaPng, wasm }) {
  const net = await MnasNet.load(null, { wasm, threads: 1 });
  const out = { backend: net.info.backend, images: [] };
  for (const { png, jpeg } of images) {
    const pngBytes = new Uint8Array(png);
    const jpegBytes = new Uint8Array(jpeg);
    const pending = net.classify(new File([pngBytes], 'image.png', { type: 'image/png' }));
    const file = await pending;
    const jpegBlob = await net.classify(new Blob([jpegBytes], { type: 'image/jpeg' }));
    out.images.push({
      promise: pending instanceof Promise,
      pngFile: logits(file),
      pngBytes: logits(await net.classify(pngBytes)),
      jpegBlob: logits(jpegBlob),
      jpegTop: jpegBlob.top[0].label,
      jpegPixels: await bitmapPixels(new Blob([jpegBytes], { type: 'image/jpeg' })),
    });
  }
  const a = new Uint8Array(alphaPng);
  out.alphaBlob = logits(await net.classify(new Blob([a], { type: 'image/png' })));
  const bitmap = await createImageBitmap(new Blob([a]), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  out.alphaCanvas = logits(net.classify(bitmap)); // drawn on a canvas: premultiplied there
  bitmap.close();
  out.notImage = await net.classify(new Blob(['hello'])).then(() => 'classified', (e) => `${e.code} ${e.message}`);
  net.dispose();
  return out;
}
