// Validates AsyncAPI documents with the official parser (@asyncapi/parser, pinned in
// package.json), with every rule of its default ruleset on.
//
//   node validate.mjs [--fail-on-warnings] <file.json|file.yaml>...
//
// Prints every diagnostic as `<file>: <severity> <code> at <path>: <message>` and exits 1 when
// any document has a diagnostic of severity error (or, with --fail-on-warnings, warning), or
// could not be parsed at all. Run by volley_testing::validate (testing/src/validate.rs).

import { readFile } from 'node:fs/promises';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const args = process.argv.slice(2);
const failOnWarnings = args.includes('--fail-on-warnings');
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  console.error('usage: node validate.mjs [--fail-on-warnings] <asyncapi document>...');
  process.exit(2);
}

const names = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

const parser = new Parser();
let failed = 0;
for (const file of files) {
  const text = await readFile(file, 'utf8');
  const { document, diagnostics } = await parser.parse(text, { source: file });
  let bad = 0;
  for (const d of diagnostics) {
    const fatal =
      d.severity === DiagnosticSeverity.Error ||
      (failOnWarnings && d.severity === DiagnosticSeverity.Warning);
    if (fatal) bad += 1;
    const path = (d.path ?? []).join('/');
    console.log(`${file}: ${names[d.severity] ?? d.severity} ${d.code} at /${path}: ${d.message}`);
  }
  if (document === undefined && bad === 0) {
    console.log(`${file}: error: the parser returned no document`);
    bad += 1;
  }
  if (bad > 0) failed += 1;
  console.log(`${file}: ${bad === 0 ? 'ok' : 'FAILED'} (${diagnostics.length} diagnostics)`);
}
console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
