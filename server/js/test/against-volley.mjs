#!/usr/bin/env node
// Checks volley.js against a running volley server that serves the callbacks example
// (`cargo run -p example-callbacks`):
//
//   node test/against-volley.mjs ws://127.0.0.1:8080/ws
//
// Connects serving `confirm` (answers true) and `tick`, calls `add {a:1,b:2}` expecting 3,
// calls `ask {question:"ok?"}` expecting true (the server calls back `confirm`), waits for one
// `tick` notification, and exits 0. On any failure it prints why and exits 1; a missing URL
// exits 2. Everything must be done within 20 s.
//
// Uses the global WebSocket (Node >= 22), else the `ws` package from `npm install`.

import { connect } from '../volley.js';

const DEADLINE_MS = 20_000;
const USAGE = 'usage: node test/against-volley.mjs ws://HOST:PORT/ws';

let step = 'starting';

/** @param {string} message */
function fail(message) {
  console.error(`against-volley: FAIL while ${step}: ${message}`);
  process.exit(1);
}

async function webSocketClass() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  try {
    return (await import('ws')).WebSocket;
  } catch {
    return fail("this Node has no global WebSocket and the `ws` package is not installed (run `npm install` in server/js)");
  }
}

/** @param {string} url */
async function main(url) {
  const deadline = setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
  const questions = [];
  /** @type {(params: unknown) => void} */
  let gotTick = () => {};
  const tick = new Promise((resolve) => (gotTick = resolve));

  step = `connecting to ${url}`;
  const peer = await connect(url, {
    WebSocket: await webSocketClass(),
    reconnect: false,
    connectTimeoutMs: DEADLINE_MS,
    handlers: {
      // By name from a server whose trait declares nothing, by position from one that
      // declares `params = "positional"` (example-callbacks).
      confirm: (params) => {
        questions.push(Array.isArray(params) ? params[0] : /** @type {any} */ (params)?.question);
        return true;
      },
      tick: (params) => gotTick(params),
    },
  });
  peer.addEventListener('close', (event) => {
    const { code, reason } = /** @type {CustomEvent} */ (event).detail;
    fail(`the connection closed (code ${code}${reason ? `: ${reason}` : ''})`);
  });

  step = 'calling add {a: 1, b: 2}';
  const sum = await peer.call('add', { a: 1, b: 2 });
  if (sum !== 3) fail(`expected 3, got ${JSON.stringify(sum)}`);

  step = 'calling ask {question: "ok?"}';
  const answer = await peer.call('ask', { question: 'ok?' });
  if (answer !== true) fail(`expected true, got ${JSON.stringify(answer)}`);
  if (questions.length !== 1 || questions[0] !== 'ok?') {
    fail(`expected the server to call confirm once with the question "ok?", it asked ${JSON.stringify(questions)}`);
  }

  step = 'waiting for a tick notification';
  const params = await tick;

  clearTimeout(deadline);
  console.log(`against-volley: ok (add = 3, ask = true via confirm, tick ${JSON.stringify(params)})`);
  process.exit(0);
}

const url = process.argv[2];
if (url) {
  main(url).catch((err) => fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err)));
} else if (process.env.NODE_TEST_CONTEXT) {
  // `node --test test/` runs every file in test/; this one needs a server. against-volley.test.js
  // runs it against a stand-in server.
  const { test } = await import('node:test');
  test('against-volley.mjs needs a server URL', { skip: USAGE }, () => {});
} else {
  console.error(USAGE);
  process.exit(2);
}
