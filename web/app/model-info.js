// The Model panel and the model summary the tests read: how the loaded
// model's description (from the worker) is formatted for people.
import { $ } from './dom.js';

export function fmtCount(n) {
  if (n == null || !Number.isFinite(Number(n))) return '–';
  n = Number(n);
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function fmtInput(s) {
  if (s == null) return '–';
  if (typeof s === 'number') return `${s}×${s}`;
  if (Array.isArray(s)) return s.slice(-2).join('×');
  if (typeof s === 'object') {
    const h = s.height ?? s.h, w = s.width ?? s.w;
    if (h && w) return `${h}×${w}`;
  }
  return String(s);
}

/** Normalizes the worker's info in place: label-less models get class indices. */
export function adoptInfo(info) {
  // Models without label metadata get class indices from the SDK ("0", "1", …).
  info.indexLabels = !info.labels || info.labels.every((l, i) => l === String(i));
  if (!info.labels || !info.labels.length) info.labels = null;
  return info;
}

/** The plain summary published as window.__demo.modelInfo. */
export function modelSummary(info, loadMs) {
  return {
    name: info.name,
    inputSize: info.inputSize,
    classes: info.numClasses || (info.labels ? info.labels.length : 0),
    labels: info.labels && !info.indexLabels ? info.labels.slice(0, 20) : null,
    params: info.params,
    macs: info.macs,
    layers: info.layers,
    seBlocks: info.seBlocks,
    backend: info.backend,
    version: info.version,
    loadMs,
  };
}

export function showModelInfo(mi, loadMs, footVersion) {
  const classes = mi.numClasses || (mi.labels ? mi.labels.length : 0);
  $('mi-name').textContent = mi.name;
  $('mi-input').textContent = fmtInput(mi.inputSize);
  $('mi-classes').textContent = classes
    ? `${classes}${mi.labels && !mi.indexLabels ? ` (${mi.labels.slice(0, 3).join(', ')}${classes > 3 ? ', …' : ''})` : ' (no labels in the model: class indices)'}`
    : '–';
  $('mi-params').textContent = mi.params != null ? `${fmtCount(mi.params)} (${Number(mi.params).toLocaleString('en-US')})` : '–';
  $('mi-macs').textContent = mi.macs != null ? fmtCount(mi.macs) : '–';
  $('mi-layers').textContent = mi.layers != null ? (Array.isArray(mi.layers) ? String(mi.layers.length) : String(mi.layers)) : '–';
  const se = mi.seBlocks || [];
  $('mi-se').textContent = se.length ? `${se.length} (${se.map((b) => b.channels).join(', ')} channels)` : 'none';
  $('mi-engine').textContent = [mi.backend, mi.version && `v${mi.version}`, loadMs != null && `loaded in ${Math.round(loadMs)} ms`]
    .filter(Boolean).join(' · ') || '–';
  footVersion.textContent = mi.version ? `mnasnet-wasm ${mi.version}` : 'mnasnet-wasm';
}
