// Runs test/against-volley.mjs against a stand-in for the example-callbacks server, so the
// script itself is known to work before a Rust test points it at the real one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { WebSocketServer } from 'ws';
import { within } from '../test-support/helpers.js';

const SCRIPT = fileURLToPath(new URL('./against-volley.mjs', import.meta.url));

/**
 * A server like example-callbacks: serves `add` and `ask` (which calls `confirm` on the
 * caller and returns its answer), and sends `tick {n}` to every client every 20 ms.
 * `addOffset` makes `add` wrong on purpose.
 */
async function callbacksServer({ addOffset = 0 } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await within(new Promise((resolve) => wss.once('listening', resolve)), 'listening');
  let n = 0;
  const ticker = setInterval(() => {
    n += 1;
    for (const ws of wss.clients) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'tick', params: { n } }));
  }, 20);
  wss.on('connection', (ws) => {
    const waiting = new Map();
    let nextId = 0;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.method === undefined) {
        waiting.get(m.id)?.(m);
        return;
      }
      const reply = (result) => ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      if (m.method === 'add') reply(m.params.a + m.params.b + addOffset);
      else if (m.method === 'ask') {
        const id = nextId++;
        waiting.set(id, (answer) => reply(answer.result));
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'confirm', params: { question: m.params.question } }));
      } else if (m.method === 'rpc.ping') reply('pong');
      else if (m.id !== undefined) ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } }));
    });
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (wss.address());
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    async close() {
      clearInterval(ticker);
      for (const ws of wss.clients) ws.terminate();
      await within(new Promise((resolve) => wss.close(resolve)), 'server close');
    },
  };
}

/** Runs the script; resolves with its exit code and output (killed after 25 s). */
function run(args) {
  return within(
    new Promise((resolve) => {
      execFile(process.execPath, [SCRIPT, ...args], { timeout: 25_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
      });
    }),
    'against-volley.mjs to finish',
    30_000,
  );
}

test('against-volley.mjs passes against a callbacks server', async () => {
  const server = await callbacksServer();
  try {
    const { code, stdout, stderr } = await run([server.url]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /against-volley: ok/);
  } finally {
    await server.close();
  }
});

test('against-volley.mjs fails with a message on a wrong answer', async () => {
  const server = await callbacksServer({ addOffset: 1 });
  try {
    const { code, stderr } = await run([server.url]);
    assert.equal(code, 1);
    assert.match(stderr, /FAIL while calling add .*expected 3, got 4/);
  } finally {
    await server.close();
  }
});

test('against-volley.mjs without a URL prints its usage and exits 2', async () => {
  const { code, stderr } = await within(
    new Promise((resolve) => {
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      execFile(process.execPath, [SCRIPT], { timeout: 10_000, env }, (err, _stdout, stderr) => {
        resolve({ code: err ? err.code : 0, stderr });
      });
    }),
    'usage',
  );
  assert.equal(code, 2);
  assert.match(stderr, /usage: node test\/against-volley\.mjs/);
});
