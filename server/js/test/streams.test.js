// Consuming streams (PROTOCOL.md, "Streams") with peer.subscribe, against the fake server of
// test-support: items in order, items right behind the answer, the producer's end and
// error, cancelling (break, cancel(), the signal), the buffer bound, connection loss with and
// without a resumed session.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  connect,
  Subscription,
  RpcError,
  LaggedError,
  DisconnectedError,
  CancelledError,
  ErrorCodes,
} from '../volley.js';
import { within, rejection, nextEvent, WebSocket } from '../test-support/helpers.js';
import { startSessionServer } from '../test-support/session-server.js';
import {
  streamingPair,
  accept,
  item,
  end,
  collect,
  sendTogether,
  deferred,
} from '../test-support/streams.js';

const TICKS = 'ticks';

/** The unsubscribe request the fake server got for subscription `id`. */
function unsubscribeOf(conn, method, id) {
  return conn.take((f) => f.method === method && f.id !== undefined && JSON.stringify(f.params) === JSON.stringify([id]), `${method} [${id}]`);
}

test('items arrive in order, and the producer\'s end (error null) ends the iteration', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const subscribing = peer.subscribe('subscribe_ticks', { every: 10 });
    const request = await accept(conn, 'subscribe_ticks', 1);
    assert.deepEqual(request.params, { every: 10 });
    const sub = await within(subscribing, 'subscribe');
    assert.ok(sub instanceof Subscription);
    assert.equal(sub.id, 1);
    assert.equal(sub.method, 'subscribe_ticks');
    assert.equal(sub.item, TICKS);
    for (let n = 1; n <= 5; n++) conn.send(item(TICKS, 1, { n }));
    conn.send(end(TICKS, 1));
    const { items, error } = await collect(sub);
    assert.equal(error, null);
    assert.deepEqual(items, [1, 2, 3, 4, 5].map((n) => ({ n })));
    // Ended by the producer: nothing to cancel.
    await within(sub.cancel(), 'cancel after the end');
    await pair.mark();
    assert.equal(conn.frames.filter((f) => f?.method === 'unsubscribe_ticks').length, 0);
  } finally {
    await pair.close();
  }
});

test('a next() waiting when the producer ends gets done; a string id works as an id', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const subscribing = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', 'a7f');
    const sub = await within(subscribing, 'subscribe');
    assert.equal(sub.id, 'a7f');
    const first = sub.next();
    const second = sub.next();
    conn.send(item(TICKS, 'a7f', 'x'));
    // Same item method, another id: not this stream's.
    conn.send(item(TICKS, 7, 'other'));
    conn.send(end(TICKS, 'a7f'));
    assert.deepEqual(await within(first, 'first item'), { value: 'x', done: false });
    assert.deepEqual(await within(second, 'the end'), { value: undefined, done: true });
    assert.deepEqual(await within(sub.next(), 'next after the end'), { value: undefined, done: true });
  } finally {
    await pair.close();
  }
});

test('items in the same TCP chunk as the subscribe answer, or in the same batch frame, are not lost', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    // One socket write: the answer, three items and the end, read back to back.
    const subscribing = peer.subscribe('subscribe_ticks');
    const request = await conn.take((f) => f.method === 'subscribe_ticks', 'subscribe request');
    sendTogether(conn, [
      { jsonrpc: '2.0', id: request.id, result: 1 },
      item(TICKS, 1, 'a'),
      item(TICKS, 1, 'b'),
      item(TICKS, 1, 'c'),
      end(TICKS, 1),
    ]);
    const sub = await within(subscribing, 'subscribe');
    assert.deepEqual(await collect(sub), { items: ['a', 'b', 'c'], error: null });

    // One frame: a batch holding the answer and then the items.
    const again = peer.subscribe('subscribe_ticks');
    const second = await conn.take((f) => f.method === 'subscribe_ticks', 'second subscribe request');
    conn.send([{ jsonrpc: '2.0', id: second.id, result: 2 }, item(TICKS, 2, 'd'), item(TICKS, 2, 'e'), end(TICKS, 2)]);
    assert.deepEqual(await collect(await within(again, 'second subscribe')), { items: ['d', 'e'], error: null });
  } finally {
    await pair.close();
  }
});

test('the producer\'s error ends the iteration with RpcError, after the items before it', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const subscribing = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', 3);
    const sub = await within(subscribing, 'subscribe');
    conn.send(item(TICKS, 3, 1));
    conn.send(item(TICKS, 3, 2));
    conn.send(end(TICKS, 3, { code: -32050, message: 'sensor unplugged', data: { sensor: 'cpu' } }));
    const { items, error } = await collect(sub);
    assert.deepEqual(items, [1, 2]);
    assert.ok(error instanceof RpcError, `expected RpcError, got ${error}`);
    assert.equal(error.code, -32050);
    assert.equal(error.message, 'sensor unplugged');
    assert.deepEqual(error.data, { sensor: 'cpu' });
  } finally {
    await pair.close();
  }
});

test('a subscribe the producer refuses rejects with RpcError; one answered with no id too', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const refused = peer.subscribe('subscribe_ticks');
    const request = await conn.take((f) => f.method === 'subscribe_ticks', 'subscribe request');
    conn.send({ jsonrpc: '2.0', id: request.id, error: { code: -32015, message: 'Too many streams' } });
    const err = await rejection(refused, 'a refused subscribe');
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, ErrorCodes.TOO_MANY_STREAMS);

    const odd = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', { not: 'an id' });
    const err2 = await rejection(odd, 'a subscribe answered with an object');
    assert.ok(err2 instanceof RpcError);
    assert.equal(err2.code, ErrorCodes.INTERNAL_ERROR);
    assert.match(String(err2.data), /not a subscription id/);
  } finally {
    await pair.close();
  }
});

test('break sends the unsubscribe method with [id]; late items are dropped, other notifications still reach handlers', async () => {
  const seen = [];
  const pair = await streamingPair({ handlers: { ticks: (params) => seen.push(params) } });
  try {
    const { peer, conn } = pair;
    const subscribing = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', 4);
    const sub = await within(subscribing, 'subscribe');
    for (let n = 1; n <= 3; n++) conn.send(item(TICKS, 4, n));
    const got = [];
    await within(
      (async () => {
        for await (const n of sub) {
          got.push(n);
          if (n === 2) break;
        }
      })(),
      'the loop to break',
    );
    assert.deepEqual(got, [1, 2]);
    const unsubscribe = await unsubscribeOf(conn, 'unsubscribe_ticks', 4);
    assert.deepEqual(unsubscribe.params, [4]);
    // Items still on their way are dropped: not delivered, not handed to the `ticks` handler.
    conn.send(item(TICKS, 4, 99));
    conn.send(end(TICKS, 4));
    // A `ticks` notification of no subscription is the handler's, as before.
    conn.send(item(TICKS, 5, 'for the handler'));
    await pair.mark();
    assert.deepEqual(seen, [{ subscription: 5, result: 'for the handler' }]);
    assert.deepEqual(await within(sub.next(), 'next after break'), { value: undefined, done: true });
  } finally {
    await pair.close();
  }
});

test('cancel() unsubscribes and resolves once answered; a waiting next() gets done; names can be chosen', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    // subscribeLoad: items `load`, cancelled by `unsubscribeLoad`.
    const subscribing = peer.subscribe('subscribeLoad');
    await accept(conn, 'subscribeLoad', 8);
    const sub = await within(subscribing, 'subscribe');
    assert.equal(sub.item, 'load');
    const waiting = sub.next();
    await within(sub.cancel(), 'cancel');
    // cancel() resolved once the server answered: it has the request already.
    const u = await unsubscribeOf(conn, 'unsubscribeLoad', 8);
    assert.equal(typeof u.id, 'number');
    assert.deepEqual(u.params, [8]);
    assert.deepEqual(await within(waiting, 'the waiting next'), { value: undefined, done: true });
    await within(sub.cancel(), 'cancel again');

    // Chosen names.
    const custom = peer.subscribe('subscribeWatch', ['cpu'], { item: 'sample', unsubscribe: 'unwatch' });
    await accept(conn, 'subscribeWatch', 9);
    const sub2 = await within(custom, 'subscribe watch');
    assert.equal(sub2.item, 'sample');
    conn.send(item('sample', 9, 0.5));
    assert.deepEqual(await within(sub2.next(), 'a sample'), { value: 0.5, done: false });
    const r = await within(sub2.return(), 'return');
    assert.deepEqual(r, { value: undefined, done: true });
    await unsubscribeOf(conn, 'unwatch', 9);
    // A name that is not `subscribe_x` or `subscribeX` gets `<method>_item`.
    const plain = peer.subscribe('subscribers');
    await accept(conn, 'subscribers', 10);
    assert.equal((await within(plain, 'subscribe subscribers')).item, 'subscribers_item');
  } finally {
    await pair.close();
  }
});

test('the signal cancels: before sending, while waiting for the answer, and while iterating', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const early = new AbortController();
    early.abort();
    const e1 = await rejection(peer.subscribe('subscribe_ticks', undefined, { signal: early.signal }), 'an aborted subscribe');
    assert.ok(e1 instanceof CancelledError);

    const during = new AbortController();
    const waiting = peer.subscribe('subscribe_ticks', undefined, { signal: during.signal });
    const request = await conn.take((f) => f.method === 'subscribe_ticks', 'subscribe request');
    during.abort();
    const e2 = await rejection(waiting, 'a subscribe cancelled while waiting');
    assert.ok(e2 instanceof CancelledError);
    await conn.take((f) => f.method === 'rpc.cancel' && f.params?.id === request.id, 'rpc.cancel');

    const later = new AbortController();
    const subscribing = peer.subscribe('subscribe_ticks', undefined, { signal: later.signal });
    await accept(conn, 'subscribe_ticks', 11);
    const sub = await within(subscribing, 'subscribe');
    conn.send(item(TICKS, 11, 'a'));
    const loop = collect(sub, 'the loop to end on abort');
    await pair.mark();
    later.abort();
    assert.deepEqual(await loop, { items: ['a'], error: null });
    await unsubscribeOf(conn, 'unsubscribe_ticks', 11);
  } finally {
    await pair.close();
  }
});

test('past bufferSize items not taken, the stream ends with LaggedError (after the buffered ones) and is unsubscribed', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const subscribing = peer.subscribe('subscribe_ticks', undefined, { bufferSize: 3 });
    await accept(conn, 'subscribe_ticks', 12);
    const sub = await within(subscribing, 'subscribe');
    for (let n = 1; n <= 6; n++) conn.send(item(TICKS, 12, n));
    await pair.mark(); // all six read, none taken
    await unsubscribeOf(conn, 'unsubscribe_ticks', 12);
    const { items, error } = await collect(sub);
    assert.deepEqual(items, [1, 2, 3]);
    assert.ok(error instanceof LaggedError, `expected LaggedError, got ${error}`);
    assert.equal(error.name, 'LaggedError');
    // A consumer that keeps up never lags: a waiting next() takes the item at once.
    const keeping = peer.subscribe('subscribe_ticks', undefined, { bufferSize: 1 });
    await accept(conn, 'subscribe_ticks', 13);
    const sub2 = await within(keeping, 'subscribe');
    for (let n = 1; n <= 5; n++) {
      const next = sub2.next();
      conn.send(item(TICKS, 13, n));
      assert.deepEqual(await within(next, `item ${n}`), { value: n, done: false });
    }
    await within(sub2.cancel(), 'cancel');
  } finally {
    await pair.close();
  }
});

test('a connection lost without a session to resume ends the iteration with DisconnectedError', async () => {
  // Reconnect on, and a server without sessions: the next socket is a new connection.
  const pair = await streamingPair({ reconnect: { initialDelayMs: 10, maxDelayMs: 50, factor: 2 } });
  try {
    const { peer, conn, server } = pair;
    const subscribing = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', 1);
    const sub = await within(subscribing, 'subscribe');
    const waiting = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', 2);
    const sub2 = await within(waiting, 'second subscribe');
    conn.send(item(TICKS, 1, 'kept'));
    await pair.mark();
    const pending = sub2.next();
    const back = nextEvent(peer, 'reconnected');
    conn.ws.terminate();
    // Items received before the loss are delivered first.
    const { items, error } = await collect(sub);
    assert.deepEqual(items, ['kept']);
    assert.ok(error instanceof DisconnectedError, `expected DisconnectedError, got ${error}`);
    const e2 = await rejection(pending, 'a next() waiting at the loss');
    assert.ok(e2 instanceof DisconnectedError);
    assert.deepEqual((await back).detail, { resumed: false });
    await server.connection(1);
  } finally {
    await pair.close();
  }
});

test('peer.close() ends the iteration with DisconnectedError', async () => {
  const pair = await streamingPair();
  try {
    const { peer, conn } = pair;
    const subscribing = peer.subscribe('subscribe_ticks');
    await accept(conn, 'subscribe_ticks', 1);
    const sub = await within(subscribing, 'subscribe');
    const next = sub.next();
    peer.close();
    assert.ok((await rejection(next, 'next at close')) instanceof DisconnectedError);
    // Cancelling afterwards sends nothing and does not throw.
    await within(sub.cancel(), 'cancel after close');
  } finally {
    await pair.close();
  }
});

test('on a resumed session the subscription carries on; a session that expired ends it with DisconnectedError', async () => {
  const server = await startSessionServer();
  const run = server.run.bind(server);
  let nextSid = 41;
  server.run = (session, m) =>
    m.method === 'subscribe_ticks' ? { jsonrpc: '2.0', id: m.id, result: nextSid++ } : run(session, m);
  const marks = [];
  const mark = (session) => {
    const done = deferred();
    marks.push(done.resolve);
    session.notify('mark');
    return within(done.promise, 'the mark');
  };
  let peer;
  try {
    peer = await within(
      connect(server.url, {
        WebSocket,
        heartbeat: false,
        reconnect: { initialDelayMs: 10, maxDelayMs: 50, factor: 2 },
        handlers: { mark: () => marks.shift()?.() },
      }),
      'connect',
    );
    const sub = await within(peer.subscribe('subscribe_ticks'), 'subscribe');
    assert.equal(sub.id, 41);
    const session = await server.session(0);
    session.notify('ticks', { subscription: 41, result: 1 });
    assert.deepEqual(await within(sub.next(), 'item 1'), { value: 1, done: false });

    // Cut the socket; items sent meanwhile wait in the server's replay buffer.
    const down = nextEvent(peer, 'close');
    const back = nextEvent(peer, 'reconnected');
    session.cut();
    await down;
    session.notify('ticks', { subscription: 41, result: 2 });
    session.notify('ticks', { subscription: 41, result: 3 });
    assert.deepEqual((await back).detail, { resumed: true });
    assert.deepEqual(await within(sub.next(), 'item 2'), { value: 2, done: false });
    assert.deepEqual(await within(sub.next(), 'item 3'), { value: 3, done: false });
    session.notify('ticks', { subscription: 41, result: 4 });
    assert.deepEqual(await within(sub.next(), 'item 4'), { value: 4, done: false });
    await mark(session);

    // Now the session expires while the socket is down: the resume gets a new session.
    const pending = sub.next();
    const down2 = nextEvent(peer, 'close');
    const back2 = nextEvent(peer, 'reconnected');
    session.cut();
    await down2;
    session.expire();
    assert.deepEqual((await back2).detail, { resumed: false });
    const err = await rejection(pending, 'next after the session expired');
    assert.ok(err instanceof DisconnectedError, `expected DisconnectedError, got ${err}`);
    assert.match(err.message, /session expired/);
  } finally {
    peer?.close();
    await server.close();
  }
});
