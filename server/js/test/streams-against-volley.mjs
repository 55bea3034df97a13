#!/usr/bin/env node
// Checks volley.js's streams against a running volley server (tests/volley_js.rs starts one):
//
//   node test/streams-against-volley.mjs ws://127.0.0.1:PORT/ws
//
// 1. consumes `subscribe_numbers {from: 1, count: 5}` with `for await` until the server
//    ends it: 1, 2, 3, 4, 5;
// 2. consumes `subscribe_forever`, leaves the loop after three items, and asks the server
//    (`forever_stopped`) whether its producer saw the cancel;
// 3. serves `subscribe_squares` with `stream(..)` and calls `sum_squares {count: 10}`, for
//    which the server opens that stream and adds up what comes: 385.
// Prints one summary line and exits 0; on any failure it says why and exits 1; a missing URL
// exits 2. Everything must be done within 20 s.

import { connect, stream } from '../volley.js';

const DEADLINE_MS = 20_000;
const USAGE = 'usage: node test/streams-against-volley.mjs ws://HOST:PORT/ws';

let step = 'starting';

/** @param {string} message */
function fail(message) {
  console.error(`streams-against-volley: FAIL while ${step}: ${message}`);
  process.exit(1);
}

async function webSocketClass() {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  try {
    return (await import('ws')).WebSocket;
  } catch {
    return fail('this Node has no global WebSocket and the `ws` package is not installed (run `npm ci` in server/js)');
  }
}

/** @param {string} url */
async function main(url) {
  const deadline = setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
  step = `connecting to ${url}`;
  const peer = await connect(url, {
    WebSocket: await webSocketClass(),
    reconnect: false,
    connectTimeoutMs: DEADLINE_MS,
    handlers: {
      subscribe_squares: stream(async function* ({ count }) {
        for (let i = 1; i <= count; i += 1) yield i * i;
      }),
    },
  });

  step = 'consuming subscribe_numbers {from: 1, count: 5}';
  const numbers = [];
  for await (const n of await peer.subscribe('subscribe_numbers', { from: 1, count: 5 })) numbers.push(n);
  if (JSON.stringify(numbers) !== '[1,2,3,4,5]') fail(`got ${JSON.stringify(numbers)}`);

  step = 'leaving subscribe_forever after three items';
  const forever = [];
  for await (const n of await peer.subscribe('subscribe_forever')) {
    forever.push(n);
    if (forever.length === 3) break;
  }
  if (JSON.stringify(forever) !== '[0,1,2]') fail(`got ${JSON.stringify(forever)}`);
  step = 'asking the server whether its producer stopped';
  const stopped = await peer.call('forever_stopped');
  if (stopped !== true) fail(`the server says ${JSON.stringify(stopped)}`);

  step = 'calling sum_squares {count: 10} (the server consumes our stream)';
  const sum = await peer.call('sum_squares', { count: 10 });
  if (sum !== 385) fail(`expected 385, got ${JSON.stringify(sum)}`);

  clearTimeout(deadline);
  console.log(`streams-against-volley: ok (numbers ${JSON.stringify(numbers)}, forever cancelled after ${JSON.stringify(forever)}, sum of squares ${sum})`);
  peer.close();
  process.exit(0);
}

const url = process.argv[2];
if (url) {
  main(url).catch((err) => fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err)));
} else if (process.env.NODE_TEST_CONTEXT) {
  const { test } = await import('node:test');
  test('streams-against-volley.mjs needs a server URL', { skip: USAGE }, () => {});
} else {
  console.error(USAGE);
  process.exit(2);
}
