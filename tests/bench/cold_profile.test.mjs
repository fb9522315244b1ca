// node --test tests/bench/
// The cold-start profile runs the SDK's load steps one by one: every phase is
// a real measurement and the load it profiles gives the model's classes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MNAS_JS_ENTRY, REPO_ROOT, TESTDATA } from '../../tools/bench/config.mjs';

const tool = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tools/bench', 'cold_profile.mjs');
const model = path.join(TESTDATA, 'models', 'mnasnet_a1_cifar10.onnx');
const skip = !fs.existsSync(model) ? `no ${model}` : !fs.existsSync(path.join(REPO_ROOT, MNAS_JS_ENTRY)) ? 'SDK not built' : false;

test('cold_profile: each phase measured, the profiled load is the SDK load', { skip }, () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cold-test-')), 'cold.json');
  const r = spawnSync(process.execPath, [tool, '--model', 'mnasnet_a1_cifar10', '--runs', '2', '--json', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| load \| [\d.]+ \| [\d.]+ \|/);
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(j.rows.length, 2);
  for (const row of j.rows) {
    for (const k of ['import', 'compile', 'instantiate', 'copy', 'load', 'copy_touched', 'empty_import']) {
      assert.ok(Number.isFinite(row[k]) && row[k] > 0, `${k} = ${row[k]}`);
    }
    assert.equal(row.classes, 10);
    assert.equal(row.model_bytes, fs.statSync(model).size);
  }
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
});

test('cold_profile: bad arguments are usage errors', () => {
  for (const args of [['--runs', '0'], ['--model'], ['--bogus'], ['--model', 'no_such_model']]) {
    const r = spawnSync(process.execPath, [tool, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /cold_profile: |usage:/);
  }
});
