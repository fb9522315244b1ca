#!/usr/bin/env node
// Copies the matrices the tests write into the READMEs, so what the READMEs
// claim is what the last test run saw: test-output/browsers.md
// (tests/browser/engines.test.mjs) and test-output/bundlers.md
// (tests/js/bundlers.test.mjs) replace the text between
//   <!-- matrix: browsers.md -->  and  <!-- /matrix -->
// in README.md and js/README.md. A matrix the tests did not write is left as it is.
//
//   node tools/readme-matrices.mjs [--check]   (--check: exit 1 when a README differs)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'test-output');
const check = process.argv.includes('--check');
let stale = 0;

for (const readme of ['README.md', 'js/README.md']) {
  const file = path.join(ROOT, readme);
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(/(<!-- matrix: ([\w.-]+) -->\n)[\s\S]*?(<!-- \/matrix -->)/g, (all, open, name, close) => {
    const src = path.join(OUT, name);
    if (!fs.existsSync(src)) {
      console.log(`${readme}: ${name} kept (test-output/${name} not written yet)`);
      return all;
    }
    return `${open}${fs.readFileSync(src, 'utf8').trimEnd()}\n${close}`;
  });
  if (next === text) continue;
  stale++;
  if (check) console.log(`${readme}: differs from test-output/`);
  else {
    fs.writeFileSync(file, next);
    console.log(`${readme}: updated`);
  }
}
if (check && stale) process.exit(1);
