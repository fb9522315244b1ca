// Drag and drop anywhere on the page: the overlay while files are dragged
// over it, and the decision what a dropped file is. Images go to the stills;
// anything else is handed to the SDK as a model, which explains what is
// wrong with it if it is not a usable ONNX file.

export function installDrop(overlay, { onImage, onModel }) {
  let depth = 0; // dragenter/dragleave pairs of nested elements
  const isFileDrag = (ev) => ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
  window.addEventListener('dragenter', (ev) => {
    if (!isFileDrag(ev)) return;
    ev.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener('dragover', (ev) => {
    if (!isFileDrag(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener('drop', (ev) => {
    ev.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (!f) return;
    if (/^image\//.test(f.type) && !/\.onnx$/i.test(f.name)) onImage(f);
    else onModel(f);
  });
}
