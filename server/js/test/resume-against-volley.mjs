#!/usr/bin/env node
// Checks volley.js's session resumption against a running volley server that serves the
// `Calculator` of the Rust tests (`add`, `ask`, `wait`, `release`) and calls `confirm` back:
//
//   node test/resume-against-volley.mjs ws://127.0.0.1:8080/ws
//
// Connects with reconnect on (so resumption, by default) and checks that the server's first
// frame is the `rpc.session` hello and that `peer.session` is set; makes 40 `add` calls at
// once (more than the 32 frames that make each side acknowledge) and waits for the server's
// `rpc.ack`; calls `ask` (the server calls `confirm` back). Then it calls `wait {key}`, drops
// the socket without a close frame (`terminate()`), checks that the session resumes
// (`reconnected` with `resumed: true`, the same session id, the resume parameters in the
// URL), and that `release {key}` lets `wait` answer. Exits 0; on any failure it prints why
// and exits 1; a missing URL exits 2. Everything must be done within 20 s.
//
// Uses the `ws` package (from `npm ci`): its `terminate()` drops a socket the way a network
// does.

import { connect } from '../volley.js';

const DEADLINE_MS = 20_000;
const USAGE = 'usage: node test/resume-against-volley.mjs ws://HOST:PORT/ws';

let step = 'starting';

/** @param {string} message */
function fail(message) {
  console.error(`resume-against-volley: FAIL while ${step}: ${message}`);
  process.exit(1);
}

/**
 * Resolves when `pred()` holds, checked after every frame the client reads.
 * @param {() => boolean} pred
 */
function until(pred) {
  return new Promise((resolve) => {
    const check = () => (pred() ? resolve(undefined) : checks.push(check));
    check();
  });
}
/** @type {Array<() => void>} */
let checks = [];
function changed() {
  const c = checks;
  checks = [];
  for (const f of c) f();
}

/** @param {string} url */
async function main(url) {
  const deadline = setTimeout(() => fail(`not done within ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
  /** @type {typeof import('ws').WebSocket} */
  let WebSocket;
  try {
    ({ WebSocket } = await import('ws'));
  } catch {
    return fail('the `ws` package is not installed (run `npm ci` in server/js)');
  }
  /** Every socket volley.js opened, and the frames each read. */
  const sockets = /** @type {Array<{ ws: import('ws').WebSocket, url: string, frames: any[] }>} */ ([]);
  class Watched extends WebSocket {
    /** @param {string} u */
    constructor(u) {
      super(u);
      const entry = { ws: this, url: u, frames: /** @type {any[]} */ ([]) };
      sockets.push(entry);
      this.addEventListener('message', (event) => {
        try {
          entry.frames.push(JSON.parse(String(event.data)));
        } catch {
          entry.frames.push(String(event.data));
        }
        queueMicrotask(changed);
      });
    }
  }

  step = `connecting to ${url}`;
  const questions = [];
  const peer = await connect(url, {
    WebSocket: /** @type {any} */ (Watched),
    connectTimeoutMs: DEADLINE_MS,
    heartbeat: false,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    handlers: {
      confirm: (/** @type {unknown} */ params) => {
        questions.push(params);
        return true;
      },
    },
  });
  const onClose = (/** @type {Event} */ event) => {
    const { code } = /** @type {CustomEvent} */ (event).detail;
    if (code !== 1006) fail(`the connection closed with code ${code} (a close frame ends the session)`);
  };
  peer.addEventListener('close', onClose);
  const first = sockets[0];
  if (!first || new URL(first.url).searchParams.get('volley_session') !== 'new') {
    fail(`the first dial did not ask for a new session: ${first?.url}`);
  }

  step = 'calling add 40 times';
  const sums = await Promise.all(Array.from({ length: 40 }, (_, i) => peer.call('add', { a: i, b: 1 })));
  sums.forEach((sum, i) => {
    if (sum !== i + 1) fail(`add {a: ${i}, b: 1} gave ${JSON.stringify(sum)}`);
  });

  step = 'checking the hello';
  const hello = first.frames[0];
  if (hello?.method !== 'rpc.session' || hello.params?.resumed !== false) {
    fail(`the server's first frame is not a new session's hello: ${JSON.stringify(hello)}`);
  }
  const session = peer.session;
  if (!session || session.id !== hello.params.id || session.graceMs !== hello.params.graceMs) {
    fail(`peer.session is ${JSON.stringify(session)}, the hello said ${JSON.stringify(hello.params)}`);
  }

  step = "waiting for the server's rpc.ack";
  await until(() => first.frames.some((f) => f?.method === 'rpc.ack' && f.params?.received >= 1));

  step = 'calling ask {question: "ok?"}';
  const answer = await peer.call('ask', { question: 'ok?' });
  if (answer !== true || questions.length !== 1) {
    fail(`expected true after one confirm, got ${JSON.stringify(answer)} after ${JSON.stringify(questions)}`);
  }

  step = 'calling wait {key: 7}, then dropping the socket';
  const waited = peer.call('wait', { key: 7 });
  // Frames are read in order: once add is answered, the server has read wait too.
  await peer.call('add', { a: 0, b: 0 });
  const resumed = new Promise((resolve) => peer.addEventListener('reconnected', resolve, { once: true }));
  first.ws.terminate();

  step = 'resuming the session';
  const { detail } = /** @type {CustomEvent} */ (await resumed);
  if (detail.resumed !== true) fail(`reconnected with ${JSON.stringify(detail)}`);
  const second = sockets[1];
  const asked = new URL(second?.url ?? url).searchParams;
  if (asked.get('volley_session') !== session.id || !asked.get('volley_resume_token') || !asked.get('volley_received')) {
    fail(`the second dial did not ask to resume ${session.id}: ${second?.url}`);
  }
  if (second?.frames[0]?.method !== 'rpc.session' || second.frames[0].params?.resumed !== true) {
    fail(`the resumed socket's first frame: ${JSON.stringify(second?.frames[0])}`);
  }
  if (peer.session?.id !== session.id) fail(`peer.session is now ${JSON.stringify(peer.session)}`);

  step = 'calling release {key: 7}';
  const released = await peer.call('release', { key: 7 });
  if (released !== true) fail(`release gave ${JSON.stringify(released)}`);
  step = 'waiting for wait {key: 7}, called before the drop';
  const key = await waited;
  if (key !== 7) fail(`wait gave ${JSON.stringify(key)}`);

  clearTimeout(deadline);
  peer.removeEventListener('close', onClose);
  peer.close();
  console.log(
    `resume-against-volley: ok (session ${session.id}, graceMs ${session.graceMs}; 40 adds; ask = true via confirm; wait answered across a dropped socket)`,
  );
  process.exit(0);
}

const url = process.argv[2];
if (url) {
  main(url).catch((err) => fail(err instanceof Error ? `${err.name}: ${err.message}` : String(err)));
} else if (process.env.NODE_TEST_CONTEXT) {
  // `node --test test/` runs every file in test/; this one needs a server. resume.test.js
  // runs it against a stand-in server.
  const { test } = await import('node:test');
  test('resume-against-volley.mjs needs a server URL', { skip: USAGE }, () => {});
} else {
  console.error(USAGE);
  process.exit(2);
}
