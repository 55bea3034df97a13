// Shared by volley-js.test.mjs, chat.test.mjs and ping.test.mjs: launches Chromium, runs
// named checks with deadlines, records page problems, saves screenshots, and talks to the
// Rust test that started the script.
//
// Talking to the Rust test: `control('stop')` prints `CONTROL stop` on stdout and waits for
// the line `OK stop` (or `ERR stop <why>`) on stdin.

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

/** Where screenshots go: $ARTIFACTS_DIR, else target/artifacts in the workspace. */
export const artifacts = process.env.ARTIFACTS_DIR || resolve(here, '../../target/artifacts');

/** Default deadline of every wait in a page. */
export const STEP_MS = 10_000;

/** The base URL given on the command line (`node x.test.mjs http://127.0.0.1:PORT`). */
export function baseUrl(script) {
  const base = (process.argv[2] || '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) {
    console.error(`usage: node ${script} http://HOST:PORT`);
    process.exit(2);
  }
  return base;
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

let passed = 0;

/** Runs one named check; the first failure ends the run. */
export async function check(name, fn) {
  try {
    await fn();
  } catch (e) {
    throw new Error(`${name}: ${String(e?.message ?? e).split('\n')[0]}`, { cause: e });
  }
  passed += 1;
  console.log(`ok - ${name}`);
}

/** Resolves with `promise`, or rejects once `ms` have passed. */
export function within(ms, promise, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

let browser;

/** Headless Chromium from $CHROMIUM or /usr/bin/chromium. */
export async function launch() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    timeout: 30_000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

/**
 * A new page in its own context (its own storage) with the step deadline set. Returns the
 * page and `problems`: console errors, uncaught page errors, failed requests, error responses
 * (except for /favicon.ico), and requests to anywhere but `base`.
 */
export async function newPage(base, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(STEP_MS);
  const problems = [];
  const origin = new URL(base);
  page.on('console', (m) => {
    // Failed responses are reported below, with their URL.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    // The browser asks for /favicon.ico on its own; a page without one is not broken.
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (url.host !== origin.host) problems.push(`request to elsewhere: ${r.url()}`);
  });
  return { page, problems };
}

/** Saves a screenshot of `page` (or of an element) as target/artifacts/<name>.png. */
export async function screenshot(target, name, options = {}) {
  const path = join(artifacts, `${name}.png`);
  await target.screenshot({ path, ...options });
  console.log(`screenshot: ${path}`);
  return path;
}

let lines;
const waiting = [];
const received = [];

function stdinLines() {
  if (lines) return;
  lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else received.push(line);
  });
}

/** Asks the Rust test to do `command` and waits until it is done (at most `ms`). */
export async function control(command, ms = 20_000) {
  stdinLines();
  console.log(`CONTROL ${command}`);
  const line = await within(ms, new Promise((resolve) => {
    const early = received.shift();
    if (early !== undefined) resolve(early);
    else waiting.push(resolve);
  }), `CONTROL ${command}`);
  if (line === `OK ${command}`) return;
  throw new Error(`the test driver answered ${JSON.stringify(line)} to CONTROL ${command}`);
}

/**
 * Runs `main` with an overall deadline; prints a summary and exits 0 when every check passed,
 * 1 otherwise.
 */
export async function run(main, overallMs = 90_000) {
  const overall = setTimeout(() => {
    console.error(`FAIL: the whole run took longer than ${overallMs / 1000} s`);
    process.exit(1);
  }, overallMs);
  mkdirSync(artifacts, { recursive: true });
  let code = 0;
  try {
    await main();
    console.log(`${passed} passed, 0 failed`);
  } catch (e) {
    console.error(`FAIL: ${e.message}`);
    if (e.cause?.stack) console.error(e.cause.stack);
    console.log(`${passed} passed, 1 failed`);
    code = 1;
  }
  if (browser) await within(10_000, browser.close(), 'closing the browser').catch(() => {});
  clearTimeout(overall);
  lines?.close();
  process.exit(code);
}
