// Where taught classes outlive the page: localStorage, one entry per model
// (keyed by the SDK's model fingerprint, so a head is only offered to the
// model it was taught on), and files to download and load back. A file is
// the SDK's TeachableHead JSON with the demo's thumbnails beside it under
// `demo`, so TeachableHead.fromJSON reads it as it is.

const PREFIX = 'mnasnet-wasm/head/';

export class HeadStore {
  constructor(storage) {
    this.storage = storage;
  }

  key(fingerprint) {
    return PREFIX + fingerprint;
  }

  /** { head, thumbs } saved for this model, or null (nothing, or unreadable: then it is dropped). */
  load(fingerprint) {
    let text = null;
    try {
      text = this.storage.getItem(this.key(fingerprint));
    } catch { /* storage disabled */ }
    if (!text) return null;
    try {
      return splitFile(JSON.parse(text));
    } catch {
      this.remove(fingerprint);
      return null;
    }
  }

  /** Throws when the browser refuses (storage full or disabled). */
  save(fingerprint, head, thumbs, modelName) {
    this.storage.setItem(this.key(fingerprint), JSON.stringify(joinFile(head, thumbs, modelName)));
  }

  remove(fingerprint) {
    try {
      this.storage.removeItem(this.key(fingerprint));
    } catch { /* storage disabled */ }
  }
}

function joinFile(head, thumbs, modelName) {
  return { ...head, demo: { modelName, thumbnails: Object.fromEntries(thumbs) } };
}

function splitFile(o) {
  if (!o || typeof o !== 'object' || !Array.isArray(o.classes)) throw new Error('not a file of taught classes');
  const { demo, ...head } = o;
  const thumbs = new Map();
  for (const [id, url] of Object.entries(demo?.thumbnails || {})) {
    if (typeof url === 'string' && url.startsWith('data:image/')) thumbs.set(Number(id), url);
  }
  return { head, thumbs };
}

/** A download of the head and its thumbnails. */
export function downloadHead(head, thumbs, modelName) {
  const blob = new Blob([JSON.stringify(joinFile(head, thumbs, modelName))], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  const base = (modelName || 'model').replace(/\.onnx$/i, '').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  a.download = `taught-classes-${base}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** { head, thumbs } from a file the user picked; throws with a plain message. */
export async function readHeadFile(file) {
  let o;
  try {
    o = JSON.parse(await file.text());
  } catch (e) {
    throw new Error(`${file.name} is not JSON (${e.message})`);
  }
  return splitFile(o);
}
