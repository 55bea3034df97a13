// The connection: drops, reconnects, the queue, the heartbeat, close(), connect failures and
// URL resolution.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { connect, DisconnectedError, TimeoutError } from '../volley.js';
import { startServer, baseOptions, within, rejection, nextEvent, WebSocket } from '../test-support/helpers.js';

const fastReconnect = { initialDelayMs: 10, maxDelayMs: 50, factor: 2 };

/** A port nothing listens on (bound, then released). */
async function freePort() {
  const srv = net.createServer();
  await within(new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(undefined))), 'free port');
  const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
  await within(new Promise((resolve) => srv.close(() => resolve(undefined))), 'port release');
  return port;
}

/** A WebSocket class that records the URL and fails at once (for URL tests). */
class RecordingWebSocket {
  static urls = [];
  constructor(url) {
    RecordingWebSocket.urls.push(url);
    this.readyState = 0;
    this.binaryType = 'blob';
    this.listeners = {};
    queueMicrotask(() => this.fire('close', { code: 1006, reason: '' }));
  }
  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }
  fire(type, event) {
    for (const f of this.listeners[type] ?? []) f(event);
  }
  send() {}
  close() {}
}

test('a pending call rejects with DisconnectedError the moment the server drops the socket', async () => {
  const server = await startServer();
  try {
    const peer = await within(connect(server.url, baseOptions()), 'connect');
    const conn = await server.connection(0);
    const closed = nextEvent(peer, 'close');
    const call = peer.call('hang', undefined, { timeoutMs: 60_000 });
    const batch = peer.batch([{ method: 'hang' }, { method: 'add', params: [1, 2] }], { timeoutMs: 60_000 });
    await conn.take((f) => f.method === 'hang', 'hang request');
    await conn.take((f) => Array.isArray(f), 'batch');
    conn.ws.terminate();
    const err = await rejection(call, 'pending call');
    assert.ok(err instanceof DisconnectedError);
    assert.equal(err.name, 'DisconnectedError');
    assert.match(err.message, /call "hang" \(id \d+\) got no answer: the connection closed \(code 1006\)/);
    assert.ok((await rejection(batch, 'pending batch')) instanceof DisconnectedError);
    const event = await closed;
    assert.equal(event.detail.code, 1006);
    assert.equal(peer.connected, false);
    // reconnect is off: the peer is closed for good.
    const later = await rejection(peer.call('add', [1, 2]), 'call after the drop');
    assert.ok(later instanceof DisconnectedError);
    assert.match(later.message, /reconnect is off/);
    assert.throws(() => peer.notify('log'), DisconnectedError);
  } finally {
    await server.close();
  }
});

test('the close event carries the code and reason the server sent', async () => {
  const server = await startServer();
  try {
    const peer = await within(connect(server.url, baseOptions()), 'connect');
    const conn = await server.connection(0);
    const closed = nextEvent(peer, 'close');
    conn.ws.close(1001, 'going away');
    const { detail } = await closed;
    assert.deepEqual(detail, { code: 1001, reason: 'going away' });
  } finally {
    await server.close();
  }
});

test('reconnects after the server restarts on the same port, and calls work again', async () => {
  let server = await startServer();
  const port = server.port;
  let peer;
  try {
    peer = await within(connect(server.url, baseOptions({ reconnect: fastReconnect })), 'connect');
    assert.equal(await within(peer.call('add', [1, 2]), 'first add'), 3);

    const closed = nextEvent(peer, 'close');
    const reconnecting = nextEvent(peer, 'reconnecting');
    const pending = peer.call('hang');
    await (await server.connection(0)).take((f) => f.method === 'hang', 'hang request');
    await server.close();
    assert.ok((await rejection(pending, 'call pending at the restart')) instanceof DisconnectedError);
    await closed;
    const { detail } = await reconnecting;
    assert.equal(detail.attempt, 1);
    assert.ok(detail.delayMs >= 0 && detail.delayMs <= fastReconnect.initialDelayMs);
    assert.equal(peer.connected, false);
    // Not queued by default: a call while down fails at once.
    const down = await rejection(peer.call('add', [1, 1]), 'call while down');
    assert.ok(down instanceof DisconnectedError);
    assert.match(down.message, /not connected/);

    const reconnected = nextEvent(peer, 'reconnected');
    server = await startServer({ port });
    await reconnected;
    assert.equal(peer.connected, true);
    assert.equal(await within(peer.call('add', { a: 20, b: 22 }), 'add after reconnect'), 42);
    assert.equal(server.connections.length, 1);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('calls made while disconnected are queued up to the bound and sent on reconnect', async () => {
  let server = await startServer();
  const port = server.port;
  let peer;
  try {
    peer = await within(
      connect(server.url, baseOptions({ reconnect: fastReconnect, queueWhileDisconnected: 3 })),
      'connect',
    );
    const closed = nextEvent(peer, 'close');
    await server.close();
    await closed;

    const first = peer.call('add', [1, 2]);
    const second = peer.call('echo', { order: 2 });
    peer.notify('log', ['queued']);
    const overflow = await rejection(peer.call('add', [5, 5]), 'call beyond the bound');
    assert.ok(overflow instanceof DisconnectedError);
    assert.match(overflow.message, /queue is full/);
    assert.throws(() => peer.notify('log', ['overflow']), DisconnectedError);

    const reconnected = nextEvent(peer, 'reconnected');
    server = await startServer({ port });
    const conn = await server.connection(0);
    assert.equal(await within(first, 'first queued call'), 3);
    assert.deepEqual(await within(second, 'second queued call'), { order: 2 });
    await reconnected;
    const sent = conn.frames.filter((f) => f && f.method !== 'rpc.ping');
    assert.deepEqual(
      sent.map((f) => f.method),
      ['add', 'echo', 'log'],
      'queued messages go out in order',
    );
    assert.ok(sent[0].id < sent[1].id);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('a queued call still has its deadline, and close() rejects what is queued', async () => {
  const server = await startServer();
  let peer;
  try {
    peer = await within(
      connect(server.url, baseOptions({ reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 }, queueWhileDisconnected: true })),
      'connect',
    );
    const closed = nextEvent(peer, 'close');
    await server.close();
    await closed;
    const timedOut = await rejection(peer.call('add', [1, 2], { timeoutMs: 50 }), 'queued call with a deadline');
    assert.ok(timedOut instanceof TimeoutError);
    assert.match(timedOut.message, /waiting for the connection/);

    const queued = peer.call('add', [1, 2]);
    peer.close();
    const err = await rejection(queued, 'queued call at close');
    assert.ok(err instanceof DisconnectedError);
    assert.match(err.message, /peer\.close\(\)/);
  } finally {
    peer?.close();
  }
});

test('a missed heartbeat closes the socket with 4000 and reconnects', async () => {
  const server = await startServer({ answerPings: false });
  let peer;
  try {
    peer = await within(
      connect(server.url, {
        WebSocket,
        reconnect: fastReconnect,
        heartbeat: { intervalMs: 30, timeoutMs: 100 },
      }),
      'connect',
    );
    const conn = await server.connection(0);
    const closed = nextEvent(peer, 'close');
    const reconnected = nextEvent(peer, 'reconnected');
    const pending = peer.call('hang');
    await conn.take((f) => f.method === 'rpc.ping', 'heartbeat ping');
    const { detail } = await closed;
    assert.deepEqual(detail, { code: 4000, reason: 'heartbeat timeout' });
    const err = await rejection(pending, 'call pending at the heartbeat timeout');
    assert.ok(err instanceof DisconnectedError);
    assert.match(err.message, /heartbeat/);
    assert.equal((await conn.closed).code, 4000, 'the server saw close code 4000');

    server.answerPings = true;
    await reconnected;
    const second = await server.connection(1);
    // The new connection is healthy: pings are answered and calls work.
    await second.take((f) => f.method === 'rpc.ping', 'heartbeat ping on the new connection');
    assert.equal(await within(peer.call('add', [2, 3]), 'add after reconnect'), 5);
    assert.equal(peer.connected, true);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('an answered heartbeat keeps the connection up', async () => {
  const server = await startServer();
  let peer;
  try {
    peer = await within(
      connect(server.url, { WebSocket, reconnect: false, heartbeat: { intervalMs: 10, timeoutMs: 500 } }),
      'connect',
    );
    let closes = 0;
    peer.addEventListener('close', () => closes++);
    const conn = await server.connection(0);
    for (let i = 0; i < 5; i++) await conn.take((f) => f.method === 'rpc.ping', `ping #${i + 1}`);
    assert.equal(peer.connected, true);
    assert.equal(closes, 0);
    assert.equal(server.connections.length, 1);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('close() closes for good: no reconnect, everything pending fails', async () => {
  const server = await startServer();
  let peer;
  try {
    peer = await within(connect(server.url, baseOptions({ reconnect: fastReconnect })), 'connect');
    const conn = await server.connection(0);
    let reconnecting = 0;
    peer.addEventListener('reconnecting', () => reconnecting++);
    const closed = nextEvent(peer, 'close');
    const pending = peer.call('hang');
    await conn.take((f) => f.method === 'hang', 'hang request');
    peer.close(4321, 'done here');
    assert.equal(peer.connected, false);
    const err = await rejection(pending, 'pending call at close');
    assert.ok(err instanceof DisconnectedError);
    assert.match(err.message, /peer\.close\(\) was called/);
    assert.deepEqual((await closed).detail, { code: 4321, reason: 'done here' });
    assert.deepEqual(await conn.closed, { code: 4321, reason: 'done here' });
    const after = await rejection(peer.call('add', [1, 2]), 'call after close');
    assert.ok(after instanceof DisconnectedError);
    assert.match(after.message, /closed/);
    assert.throws(() => peer.notify('log'), DisconnectedError);
    peer.close(); // a second close is a no-op
    assert.equal(reconnecting, 0);
    assert.equal(server.connections.length, 1);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('close() with a code the WebSocket refuses throws and changes nothing', async () => {
  const server = await startServer();
  let peer;
  try {
    peer = await within(connect(server.url, baseOptions()), 'connect');
    assert.throws(() => peer.close(1005), RangeError);
    assert.throws(() => peer.close(1000, 'x'.repeat(124)), RangeError);
    assert.equal(peer.connected, true);
    assert.equal(await within(peer.call('add', [1, 2]), 'add'), 3);
  } finally {
    peer?.close();
    await server.close();
  }
});

test('connect rejects when the first connection fails and reconnect is off', async () => {
  const port = await freePort();
  const err = await rejection(connect(`ws://127.0.0.1:${port}/ws`, baseOptions()), 'connect to nothing');
  assert.ok(err instanceof DisconnectedError);
  assert.match(err.message, new RegExp(`could not connect to ws://127\\.0\\.0\\.1:${port}/ws`));
});

test('with reconnect on, connect keeps trying and rejects after connectTimeoutMs', async () => {
  const port = await freePort();
  const started = Date.now();
  const err = await rejection(
    connect(`ws://127.0.0.1:${port}/ws`, baseOptions({ reconnect: fastReconnect, connectTimeoutMs: 300 })),
    'connect with a deadline',
  );
  assert.ok(err instanceof TimeoutError);
  assert.match(err.message, /within 300 ms \(\d+ attempts/);
  assert.ok(Date.now() - started >= 290);
});

test('with reconnect on, connect resolves once the server comes up', async () => {
  const port = await freePort();
  // First something that accepts TCP and hangs up (the handshake fails), then the server.
  let refused = 0;
  let server;
  const serverUp = new Promise((resolve, reject) => {
    const gate = net.createServer((socket) => {
      socket.destroy();
      refused += 1;
      if (refused === 2) {
        gate.close(() => startServer({ port }).then(resolve, reject));
      }
    });
    gate.listen(port, '127.0.0.1');
  });
  const peer = await within(
    connect(`ws://127.0.0.1:${port}/ws`, baseOptions({ reconnect: fastReconnect, connectTimeoutMs: 5000 })),
    'connect',
  );
  try {
    server = await within(serverUp, 'server start');
    assert.ok(refused >= 2);
    assert.equal(await within(peer.call('add', [1, 2]), 'add'), 3);
  } finally {
    peer.close();
    await server?.close();
  }
});

test('a relative URL is resolved against the page location (http -> ws, https -> wss)', async () => {
  const server = await startServer();
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'location');
  try {
    Object.defineProperty(globalThis, 'location', {
      value: { href: `http://127.0.0.1:${server.port}/app/index.html` },
      configurable: true,
    });
    const peer = await within(connect('/ws?room=1', baseOptions()), 'connect with a path');
    assert.equal(peer.url, `ws://127.0.0.1:${server.port}/ws?room=1`);
    assert.equal((await server.connection(0)).path, '/ws?room=1');
    peer.close();

    Object.defineProperty(globalThis, 'location', {
      value: { href: 'https://example.test/app/index.html' },
      configurable: true,
    });
    RecordingWebSocket.urls = [];
    await assert.rejects(connect('socket', { WebSocket: RecordingWebSocket, reconnect: false }), DisconnectedError);
    await assert.rejects(connect('http://example.test:81/ws', { WebSocket: RecordingWebSocket, reconnect: false }));
    assert.deepEqual(RecordingWebSocket.urls, ['wss://example.test/app/socket', 'ws://example.test:81/ws']);
  } finally {
    if (saved) Object.defineProperty(globalThis, 'location', saved);
    else delete globalThis.location;
    await server.close();
  }
});

test('bad URLs and options are refused with TypeError', async () => {
  await assert.rejects(connect('/ws', { WebSocket }), /no page location/);
  await assert.rejects(connect('ftp://example.test/ws', { WebSocket }), TypeError);
  await assert.rejects(connect('ws://127.0.0.1:1/ws', { WebSocket, timeoutMs: -1 }), TypeError);
  await assert.rejects(connect('ws://127.0.0.1:1/ws', { WebSocket, reconnect: 'yes' }), TypeError);
  await assert.rejects(connect('ws://127.0.0.1:1/ws', { WebSocket, heartbeat: 5 }), TypeError);
  await assert.rejects(connect('ws://127.0.0.1:1/ws', { WebSocket, queueWhileDisconnected: -2 }), TypeError);
  await assert.rejects(connect('ws://127.0.0.1:1/ws', { WebSocket, handlers: 'x' }), TypeError);
});

test('without a global WebSocket (Node < 22) connect asks for one', { skip: typeof globalThis.WebSocket === 'function' }, async () => {
  await assert.rejects(connect('ws://127.0.0.1:1/ws'), (err) => err instanceof TypeError && /from 'ws'/.test(err.message));
});

test('a token goes in the query of every connection attempt, and a bad one is refused', async () => {
  const server = await startServer();
  try {
    const peer = await within(
      connect(`${server.url}?room=a`, baseOptions({ token: 's3cret &=' })),
      'connect',
    );
    const conn = await server.connection(0);
    const query = new URL(conn.path, 'http://x').searchParams;
    assert.equal(query.get('token'), 's3cret &=');
    assert.equal(query.get('room'), 'a', 'the URL keeps its own query');
    peer.close();
    for (const token of ['', 7]) {
      const error = await rejection(connect(server.url, baseOptions({ token })), `token ${token}`);
      assert.ok(error instanceof TypeError, String(error));
    }
  } finally {
    await server.close();
  }
});
