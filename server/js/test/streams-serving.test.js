// Serving streams (PROTOCOL.md, "Streams") from volley.js with stream(): the fake server
// subscribes, reads the items and the end, unsubscribes; the producer's errors; the
// connection's end; backpressure and a resumed session; and volley.js on both ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';

import { connect, stream, RpcError, ErrorCodes } from '../volley.js';
import { startServer, baseOptions, within, WebSocket } from '../test-support/helpers.js';
import { startSessionServer } from '../test-support/session-server.js';
import { deferred, collect } from '../test-support/streams.js';

/** A peer serving `handlers`, connected to the fake server of helpers.js. */
async function serving(handlers, extra = {}) {
  const server = await startServer();
  const peer = await within(connect(server.url, baseOptions({ handlers, ...extra })), 'connect');
  const conn = await server.connection(0);
  return {
    server,
    peer,
    conn,
    async close() {
      peer.close();
      await server.close();
    },
  };
}

/** The next notification `method` of subscription `sid` the server received. */
function nextOf(conn, method, sid, what = `a ${method} notification`) {
  return conn.take((f) => f.method === method && f.id === undefined && f.params?.subscription === sid, what);
}

/** The position of the first raw frame `pred` accepts. */
function position(conn, pred) {
  return conn.raw.findIndex((t) => pred(JSON.parse(t)));
}

test('a subscribe is answered with a new id, then the items in order, then the end (error null)', async () => {
  const contexts = [];
  const s = await serving({
    subscribe_ticks: stream(async function* ({ count }, context) {
      contexts.push(context);
      for (let n = 1; n <= count; n++) yield { n };
    }),
  });
  try {
    const { conn, peer } = s;
    const answer = await conn.request('subscribe_ticks', { count: 3 });
    const sid = answer.result;
    assert.ok(Number.isInteger(sid), `the subscription id is an integer, not ${JSON.stringify(answer)}`);
    for (let n = 1; n <= 3; n++) {
      assert.deepEqual(await nextOf(conn, 'ticks', sid), {
        jsonrpc: '2.0',
        method: 'ticks',
        params: { subscription: sid, result: { n } },
      });
    }
    assert.deepEqual(await nextOf(conn, 'ticks', sid, 'the end'), {
      jsonrpc: '2.0',
      method: 'ticks',
      params: { subscription: sid, error: null },
    });
    // The answer came before any item.
    const answerAt = position(conn, (f) => f.id === answer.id);
    const firstItemAt = position(conn, (f) => f.method === 'ticks');
    assert.ok(answerAt >= 0 && answerAt < firstItemAt, `answer at ${answerAt}, first item at ${firstItemAt}`);
    assert.equal(contexts[0].peer, peer);
    assert.ok(contexts[0].signal instanceof AbortSignal);
    assert.equal(contexts[0].signal.aborted, false);
    // Another subscription gets another id; an empty stream just ends.
    const again = await conn.request('subscribe_ticks', { count: 0 });
    assert.notEqual(again.result, sid);
    assert.deepEqual((await nextOf(conn, 'ticks', again.result, 'the second end')).params, {
      subscription: again.result,
      error: null,
    });
    // Its unsubscribe method now says it was not running.
    assert.equal((await conn.request('unsubscribe_ticks', [sid])).result, false);
  } finally {
    await s.close();
  }
});

test('a producer that throws ends the stream with the error, mapped as a handler\'s', async () => {
  const s = await serving({
    subscribe_refusing: stream(async function* () {
      yield 1;
      throw new RpcError(-32050, 'sensor unplugged', { sensor: 'cpu' });
    }),
    subscribe_crashing: stream(function* () {
      yield 'a';
      throw new Error('kaboom');
    }),
  });
  try {
    const { conn } = s;
    const a = (await conn.request('subscribe_refusing')).result;
    assert.equal((await nextOf(conn, 'refusing', a)).params.result, 1);
    assert.deepEqual((await nextOf(conn, 'refusing', a, 'the error')).params, {
      subscription: a,
      error: { code: -32050, message: 'sensor unplugged', data: { sensor: 'cpu' } },
    });
    const b = (await conn.request('subscribe_crashing')).result;
    assert.equal((await nextOf(conn, 'crashing', b)).params.result, 'a');
    assert.deepEqual((await nextOf(conn, 'crashing', b, 'the error')).params, {
      subscription: b,
      error: { code: -32603, message: 'Internal error', data: 'kaboom' },
    });
  } finally {
    await s.close();
  }
});

test('a producer that fails before it returns an iterable answers the subscribe with the error', async () => {
  const s = await serving({
    subscribe_forbidden: stream(() => {
      throw new RpcError(-32013, 'Forbidden', 'admin');
    }),
    subscribe_later: stream(async () => {
      throw new RpcError(-32001, 'not today');
    }),
    subscribe_nothing: stream(() => 42),
  });
  try {
    const { conn } = s;
    assert.deepEqual((await conn.request('subscribe_forbidden')).error, { code: -32013, message: 'Forbidden', data: 'admin' });
    assert.deepEqual((await conn.request('subscribe_later')).error, { code: -32001, message: 'not today' });
    const e = (await conn.request('subscribe_nothing')).error;
    assert.equal(e.code, ErrorCodes.INTERNAL_ERROR);
    assert.match(e.data, /not an async iterable or an iterable/);
  } finally {
    await s.close();
  }
});

test('the unsubscribe method answers true and stops the producer (signal aborted, finally run), then false', async () => {
  const stopped = deferred();
  const reasons = [];
  /** Lets the producer yield one more item. */
  let more = deferred();
  const s = await serving({
    subscribe_forever: stream(async function* (_params, { signal }) {
      signal.addEventListener('abort', () => reasons.push(signal.reason));
      try {
        for (let n = 1; ; n++) {
          yield n;
          await more.promise;
          more = deferred();
        }
      } finally {
        stopped.resolve();
      }
    }),
    watch: stream(
      async function* () {
        yield 'w';
        await new Promise(() => {});
      },
      { item: 'sample', unsubscribe: 'stop_samples' },
    ),
  });
  try {
    const { conn } = s;
    const sid = (await conn.request('subscribe_forever')).result;
    assert.equal((await nextOf(conn, 'forever', sid)).params.result, 1);
    more.resolve();
    assert.equal((await nextOf(conn, 'forever', sid)).params.result, 2);
    assert.equal((await conn.request('unsubscribe_forever', [sid])).result, true);
    assert.equal(reasons.length, 1);
    assert.equal(reasons[0].name, 'CancelledError');
    more.resolve(); // the generator wakes, and return() ends it at its next yield
    await within(stopped.promise, 'the producer\'s finally');
    assert.equal((await conn.request('unsubscribe_forever', [sid])).result, false);
    assert.equal((await conn.request('unsubscribe_forever', { subscription: 999 })).result, false);
    assert.equal((await conn.request('unsubscribe_forever', [])).error.code, ErrorCodes.INVALID_PARAMS);
    // Nothing came after the unsubscribe: no third item, no end.
    await conn.request('rpc.ping');
    assert.equal(conn.frames.filter((f) => f?.method === 'forever').length, 0);

    // Chosen names: items `sample`, cancelled by `stop_samples`.
    const w = (await conn.request('watch')).result;
    assert.equal((await nextOf(conn, 'sample', w)).params.result, 'w');
    assert.equal((await conn.request('unsubscribe_ticks', [w])).error?.code, ErrorCodes.METHOD_NOT_FOUND);
    assert.equal((await conn.request('unwatch', [w])).error?.code, ErrorCodes.METHOD_NOT_FOUND);
    assert.equal((await conn.request('stop_samples', [w])).result, true);
  } finally {
    await s.close();
  }
});

test('the connection\'s end stops every stream served on it', async () => {
  const started = deferred();
  const aborted = deferred();
  const finished = deferred();
  const s = await serving({
    subscribe_ticks: stream(async function* (_p, { signal }) {
      signal.addEventListener('abort', () => aborted.resolve(signal.reason));
      try {
        yield 1;
        started.resolve();
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        yield 2;
      } finally {
        finished.resolve();
      }
    }),
  });
  try {
    const { conn } = s;
    await conn.request('subscribe_ticks');
    await within(started.promise, 'the first item');
    conn.ws.terminate();
    const reason = await within(aborted.promise, 'the producer\'s signal');
    assert.equal(reason.name, 'DisconnectedError');
    await within(finished.promise, 'the producer\'s finally');
  } finally {
    await s.close();
  }
});

test('past maxStreams a subscribe gets -32015 Too many streams; rpc.discover lists the stream methods', async () => {
  const s = await serving(
    {
      subscribe_ticks: stream(async function* () {
        yield 1;
        await new Promise(() => {});
      }),
    },
    { maxStreams: 1 },
  );
  try {
    const { conn } = s;
    const first = (await conn.request('subscribe_ticks')).result;
    assert.deepEqual((await conn.request('subscribe_ticks')).error, {
      code: -32015,
      message: 'Too many streams',
      data: 'this peer already serves 1 streams on this connection (maxStreams: 1)',
    });
    assert.equal((await conn.request('unsubscribe_ticks', [first])).result, true);
    assert.ok(Number.isInteger((await conn.request('subscribe_ticks')).result));
    // A notification cannot start a stream (there is no id to answer with): it is ignored.
    conn.send({ jsonrpc: '2.0', method: 'subscribe_ticks' });
    const doc = (await conn.request('rpc.discover')).result;
    assert.deepEqual(doc.methods.map((m) => m.name), ['subscribe_ticks', 'unsubscribe_ticks']);
  } finally {
    await s.close();
  }
});

test('backpressure: a producer that never waits is pulled only as the socket takes its items', async () => {
  // A session whose server withholds acknowledgements: the client's replay buffer (300
  // bytes) fills after a few items, and nothing more can be written.
  const server = await startSessionServer({ withholdAcks: true });
  let pulled = 0;
  const finished = deferred();
  const probes = [];
  let peer;
  try {
    peer = await within(
      connect(server.url, {
        WebSocket,
        heartbeat: false,
        reconnect: { initialDelayMs: 10, maxDelayMs: 50, factor: 2 },
        maxReplayBytes: 300,
        handlers: {
          subscribe_fast: stream(function* () {
            try {
              for (;;) yield ++pulled;
            } finally {
              finished.resolve();
            }
          }),
          probe: () => probes.shift()?.(pulled),
        },
      }),
      'connect',
    );
    const session = await server.session(0);
    const items = () => session.inbox.filter((m) => m.method === 'fast').map((m) => m.params.result);
    const { result: sid } = await within(session.request('subscribe_fast', {}), 'the subscribe answer');
    await server.until(() => items().length >= 1, 'the first items');
    // Ask the client how far the producer got: a stalled producer leaves the event loop free.
    const probe = (/** @type {any} */ s) => {
      const seen = deferred();
      probes.push(seen.resolve);
      s.notify('probe');
      return within(seen.promise, 'the probe');
    };
    const atStall = await probe(session);
    // 300 bytes hold 4 items of ~70 bytes; one more waits for room; one is being encoded.
    assert.ok(atStall <= 6, `the producer was pulled ${atStall} times while the socket took at most 4 items`);
    // Acknowledge, and let acknowledgements flow: the items flow again, in order.
    server.withholdAcks = false;
    session.ack();
    await server.until(() => items().length >= 20, '20 items');
    const got = items();
    assert.deepEqual(got, got.map((_, i) => i + 1), 'items in order, none lost or doubled');
    const stop = await within(session.request('unsubscribe_fast', [sid]), 'the unsubscribe answer');
    assert.equal(stop.result, true);
    await within(finished.promise, 'the producer\'s finally');
  } finally {
    peer?.close();
    await server.close();
  }
});

test('a served stream carries on across a resumed session: every item once, in order', async () => {
  const server = await startSessionServer();
  let more = deferred();
  let peer;
  try {
    peer = await within(
      connect(server.url, {
        WebSocket,
        heartbeat: false,
        reconnect: { initialDelayMs: 10, maxDelayMs: 50, factor: 2 },
        handlers: {
          subscribe_counts: stream(async function* ({ upTo }) {
            for (let n = 1; n <= upTo; n++) {
              if (n === 6) {
                await more.promise; // the test cuts the socket meanwhile
              }
              yield n;
            }
          }),
        },
      }),
      'connect',
    );
    const session = await server.session(0);
    const seen = () => session.inbox.filter((m) => m.method === 'counts');
    const { result: sid } = await within(session.request('subscribe_counts', { upTo: 10 }), 'the subscribe answer');
    await server.until(() => seen().length >= 5, 'five items');
    const back = new Promise((resolve) => peer.addEventListener('reconnected', (e) => resolve(e.detail), { once: true }));
    session.cut();
    more.resolve(); // items 6.. are made while the socket is down: they wait for the resume
    assert.deepEqual(await within(back, 'the resume'), { resumed: true });
    await server.until(() => seen().some((m) => m.params.error === null), 'the end');
    assert.deepEqual(
      seen().map((m) => m.params),
      [...Array.from({ length: 10 }, (_, i) => ({ subscription: sid, result: i + 1 })), { subscription: sid, error: null }],
    );
  } finally {
    peer?.close();
    await server.close();
  }
});

/**
 * A relay on 127.0.0.1: the first two connections are joined, each frame of one written to
 * the other as it is.
 */
async function startRelay() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await within(new Promise((resolve) => wss.once('listening', resolve)), 'listening relay');
  /** @type {import('ws').WebSocket[]} */
  const sockets = [];
  /** @type {string[][]} */
  const early = [[], []];
  wss.on('connection', (ws) => {
    const i = sockets.push(ws) - 1;
    if (i > 1) return ws.close(1008, 'two peers only');
    if (i === 1) for (const t of early[0].splice(0)) ws.send(t);
    ws.on('message', (data) => {
      const other = sockets[1 - i];
      if (other) other.send(data.toString());
      else early[i].push(data.toString());
    });
  });
  const port = /** @type {import('node:net').AddressInfo} */ (wss.address()).port;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    async close() {
      for (const ws of sockets) ws.terminate();
      await within(new Promise((resolve) => wss.close(() => resolve(undefined))), 'relay close');
    },
  };
}

test('volley.js on both ends: subscribe, items, break, unsubscribe answered true', async () => {
  const relay = await startRelay();
  const stopped = deferred();
  let producer;
  let consumer;
  try {
    producer = await within(
      connect(relay.url, baseOptions({
        handlers: {
          subscribe_load: stream(async function* ({ every }, { signal }) {
            try {
              for (let n = 1; !signal.aborted; n++) {
                yield { n, every };
                await new Promise((resolve) => setTimeout(resolve, every));
              }
            } finally {
              stopped.resolve();
            }
          }),
          subscribe_three: stream(() => [1, 2, 3]),
        },
      })),
      'producer connect',
    );
    consumer = await within(connect(relay.url, baseOptions()), 'consumer connect');
    const sub = await within(consumer.subscribe('subscribe_load', { every: 1 }), 'subscribe');
    assert.equal(sub.item, 'load');
    const got = [];
    await within(
      (async () => {
        for await (const sample of sub) {
          got.push(sample.n);
          if (got.length === 5) break;
        }
      })(),
      'five samples',
    );
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    await within(stopped.promise, 'the producer to stop');
    const three = await within(consumer.subscribe('subscribe_three'), 'subscribe_three');
    assert.deepEqual(await collect(three), { items: [1, 2, 3], error: null });
  } finally {
    consumer?.close();
    producer?.close();
    await relay.close();
  }
});
