// Requests from the server to volley.js: handlers, errors, notifications, batches, rpc.cancel,
// rpc.ping, rpc.discover, and invalid frames.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { connect, RpcError } from '../volley.js';
import { startServer, baseOptions, within } from '../test-support/helpers.js';

describe('requests from the server', () => {
  let server;
  let peer;
  let conn;
  const seen = [];
  /** Resolvers for handlers that wait on the test. */
  const gates = new Map();
  /** Resolvers of "the handler for key started" promises. */
  const starts = new Map();
  const started = (key) => {
    if (gates.has(key)) return Promise.resolve();
    return within(new Promise((resolve) => starts.set(key, resolve)), `handler "${key}" to start`);
  };
  const aborted = new Map();
  const ticks = [];
  let tickWaiter = null;

  const handlers = {
    confirm: ({ question }) => question.endsWith('?'),
    sum: (numbers) => numbers.reduce((a, b) => a + b, 0),
    async later({ value }) {
      await null;
      return { value };
    },
    refuse() {
      throw new RpcError(-32050, 'refused', { retry: false });
    },
    refuseLikeRpc() {
      const err = new Error('plain error with a code');
      err.code = 4242;
      err.data = [1, 2];
      throw err;
    },
    crash() {
      throw new Error('kaboom');
    },
    async crashLater() {
      throw new TypeError('late kaboom');
    },
    nothing() {},
    seeArgs(params, context) {
      seen.push({ params, signalIsAbortSignal: context.signal instanceof AbortSignal, peer: context.peer });
      return true;
    },
    wait({ key }, { signal }) {
      return new Promise((resolve) => {
        gates.set(key, resolve);
        starts.get(key)?.();
        signal.addEventListener('abort', () => {
          aborted.set(key, signal.reason);
          resolve('aborted');
        });
      });
    },
    tick({ n }) {
      ticks.push(n);
      tickWaiter?.();
    },
  };

  before(async () => {
    server = await startServer();
    peer = await within(connect(server.url, baseOptions({ handlers })), 'connect');
    conn = await server.connection(0);
  });

  after(async () => {
    peer?.close();
    await server?.close();
  });

  test('a handler answers a server request with its result', async () => {
    assert.deepEqual(await conn.request('confirm', { question: 'ok?' }), { jsonrpc: '2.0', id: 1001, result: true });
    assert.equal((await conn.request('sum', [1, 2, 3])).result, 6);
    assert.deepEqual((await conn.request('later', { value: 'x' })).result, { value: 'x' });
    assert.equal((await conn.request('nothing')).result, null);
  });

  test('handlers get the params as sent and a context with signal and peer', async () => {
    await conn.request('seeArgs', ['a', 1]);
    await conn.request('seeArgs', { k: 'v' });
    await conn.request('seeArgs');
    assert.deepEqual(seen.map((s) => s.params), [['a', 1], { k: 'v' }, undefined]);
    assert.ok(seen.every((s) => s.signalIsAbortSignal && s.peer === peer));
  });

  test('a thrown error with a code keeps code, message and data', async () => {
    const r = await conn.request('refuse', {});
    assert.deepEqual(r.error, { code: -32050, message: 'refused', data: { retry: false } });
    const r2 = await conn.request('refuseLikeRpc', {});
    assert.deepEqual(r2.error, { code: 4242, message: 'plain error with a code', data: [1, 2] });
  });

  test('any other thrown error becomes -32603 Internal error with the message as data', async () => {
    assert.deepEqual((await conn.request('crash')).error, { code: -32603, message: 'Internal error', data: 'kaboom' });
    assert.deepEqual((await conn.request('crashLater')).error, {
      code: -32603,
      message: 'Internal error',
      data: 'late kaboom',
    });
  });

  test('an unknown method gets -32601 Method not found', async () => {
    const r = await conn.request('nope');
    assert.equal(r.error.code, -32601);
    assert.equal(r.error.message, 'Method not found');
    // Names inherited from Object.prototype are not methods.
    assert.equal((await conn.request('toString')).error.code, -32601);
    assert.equal((await conn.request('constructor')).error.code, -32601);
  });

  test('a notification from the server runs its handler and is never answered', async () => {
    const before = conn.raw.length;
    const ran = new Promise((resolve) => (tickWaiter = resolve));
    conn.send({ jsonrpc: '2.0', method: 'tick', params: { n: 7 } });
    await within(ran, 'tick handler');
    conn.send({ jsonrpc: '2.0', method: 'unknownNotification', params: [] });
    conn.send({ jsonrpc: '2.0', method: 'crash' });
    const ping = await conn.request('rpc.ping');
    assert.equal(ping.result, 'pong');
    assert.deepEqual(ticks, [7]);
    // Nothing but the ping's answer came back.
    assert.deepEqual(conn.raw.slice(before).map((t) => JSON.parse(t).id), [ping.id]);
  });

  test('volley.js answers rpc.ping itself', async () => {
    const r = await conn.request('rpc.ping');
    assert.equal(r.result, 'pong');
  });

  test('rpc.discover lists the handlers', async () => {
    const r = await conn.request('rpc.discover');
    assert.equal(typeof r.result.openrpc, 'string');
    const names = r.result.methods.map((m) => m.name);
    assert.ok(names.includes('confirm') && names.includes('tick'));
    assert.ok(!names.includes('toString'));
  });

  test('rpc.cancel aborts the handler signal and answers -32800', async () => {
    conn.send({ jsonrpc: '2.0', id: 'w1', method: 'wait', params: { key: 'w1' } });
    await started('w1');
    conn.send({ jsonrpc: '2.0', method: 'rpc.cancel', params: { id: 'w1' } });
    const r = await conn.response('w1');
    assert.equal(r.error.code, -32800);
    assert.equal(r.error.message, 'Request cancelled');
    assert.ok(aborted.has('w1'));
    assert.match(String(aborted.get('w1')?.message), /cancel/);

    // By position too, and a numeric id.
    conn.send({ jsonrpc: '2.0', id: 77, method: 'wait', params: { key: 'w2' } });
    await started('w2');
    conn.send({ jsonrpc: '2.0', method: 'rpc.cancel', params: [77] });
    assert.equal((await conn.response(77)).error.code, -32800);

    // A handler that finishes normally is not cancelled.
    conn.send({ jsonrpc: '2.0', id: 78, method: 'wait', params: { key: 'w3' } });
    await started('w3');
    gates.get('w3')('done');
    assert.equal((await conn.response(78)).result, 'done');
    assert.ok(!aborted.has('w3'));
  });

  test('a batch from the server gets one array response; notifications add no entry', async () => {
    conn.send([
      { jsonrpc: '2.0', id: 'b1', method: 'sum', params: [1, 1] },
      { jsonrpc: '2.0', method: 'tick', params: { n: 8 } },
      { jsonrpc: '2.0', id: 'b2', method: 'missing' },
      { jsonrpc: '2.0', id: 'b3', method: 'crash' },
      42,
    ]);
    const reply = await conn.take((f) => Array.isArray(f), 'batch response');
    assert.equal(reply.length, 4);
    const byId = new Map(reply.map((r) => [r.id, r]));
    assert.equal(byId.get('b1').result, 2);
    assert.equal(byId.get('b2').error.code, -32601);
    assert.equal(byId.get('b3').error.code, -32603);
    assert.equal(byId.get(null).error.code, -32600);
    assert.ok(ticks.includes(8));
  });

  test('an all-notification batch produces no frame; [] gets a single -32600', async () => {
    const before = conn.raw.length;
    conn.send([
      { jsonrpc: '2.0', method: 'tick', params: { n: 9 } },
      { jsonrpc: '2.0', method: 'tick', params: { n: 10 } },
    ]);
    conn.send('[]');
    const empty = await conn.take((f) => !Array.isArray(f) && f.error?.code === -32600, 'empty batch error');
    assert.equal(empty.id, null);
    assert.equal(empty.error.message, 'Invalid Request');
    assert.equal(conn.raw.length - before, 1, 'only the empty batch was answered');
    assert.deepEqual(ticks.slice(-2), [9, 10]);
  });

  test('responses inside a batch from the server are routed to their calls', async () => {
    const a = peer.call('hang', { tag: 'routed-a' });
    const b = peer.call('hang', { tag: 'routed-b' });
    const ra = await conn.take((f) => f.params?.tag === 'routed-a', 'request a');
    const rb = await conn.take((f) => f.params?.tag === 'routed-b', 'request b');
    conn.send([
      { jsonrpc: '2.0', id: rb.id, result: 'B' },
      { jsonrpc: '2.0', id: ra.id, error: { code: -1, message: 'A failed' } },
    ]);
    assert.equal(await within(b, 'call b'), 'B');
    await assert.rejects(within(a, 'call a'), (err) => err instanceof RpcError && err.code === -1);
  });

  test('invalid frames get -32700 / -32600 as PROTOCOL.md says', async () => {
    conn.send('{not json');
    const parse = await conn.take((f) => f.error?.code === -32700, 'parse error');
    assert.equal(parse.id, null);
    assert.equal(parse.error.message, 'Parse error');
    assert.equal(typeof parse.error.data, 'string');

    conn.send({ jsonrpc: '2.0', id: 'x1', foo: 1 });
    assert.equal((await conn.response('x1')).error.code, -32600);
    conn.send({ id: 'x2', method: 'sum', params: [1] });
    assert.equal((await conn.response('x2')).error.code, -32600, 'jsonrpc missing');
    conn.send({ jsonrpc: '2.0', id: 'x3', method: 'sum', params: 5 });
    assert.equal((await conn.response('x3')).error.code, -32600, 'params neither array nor object');
    conn.send({ jsonrpc: '2.0', id: 'x4', method: 7 });
    assert.equal((await conn.response('x4')).error.code, -32600, 'method not a string');
    conn.send({ jsonrpc: '2.0', id: 'x5', result: 1, error: { code: 1, message: 'm' } });
    assert.equal((await conn.response('x5')).error.code, -32600, 'result and error');

    conn.send({ jsonrpc: '2.0', id: true, method: 'sum', params: [1] });
    const badId = await conn.take((f) => f.error?.code === -32600 && f.id === null, 'invalid id');
    assert.equal(badId.error.message, 'Invalid Request');
    conn.send('"just a string"');
    await conn.take((f) => f.error?.code === -32600 && f.id === null, 'non-object message');
    assert.equal(peer.connected, true);
  });

  test('ids are echoed back byte for byte', async () => {
    const before = conn.raw.length;
    conn.send('{"jsonrpc":"2.0","id":1.0e2,"method":"rpc.ping"}');
    conn.send('{"jsonrpc":"2.0","id":18446744073709551617,"method":"sum","params":[1,2]}');
    conn.send('[{"jsonrpc":"2.0","id":-0.50,"method":"rpc.ping"}, {"jsonrpc":"2.0","method":"tick","params":{"n":11}}]');
    conn.send('{"jsonrpc":"2.0","params":{"id":5},"id":"\\u0041b","method":"rpc.ping"}');
    await conn.take((f) => f.id === 100, 'answer to 1.0e2');
    await conn.take((f) => typeof f.id === 'number' && f.id >= 2 ** 64, 'answer to 2^64 + 1');
    await conn.take((f) => Array.isArray(f) && f[0]?.id === -0.5, 'batch answer to -0.50');
    await conn.take((f) => f.id === 'Ab', 'answer to "\\u0041b"');
    const texts = conn.raw.slice(before);
    assert.ok(texts.some((t) => t.includes('"id":1.0e2,')), texts.join('\n'));
    assert.ok(texts.some((t) => t.includes('"id":18446744073709551617,"result":3')), texts.join('\n'));
    assert.ok(texts.some((t) => t.startsWith('[') && t.includes('"id":-0.50,')), texts.join('\n'));
    assert.ok(texts.some((t) => t.includes('"id":"\\u0041b",')), texts.join('\n'));
  });

  test('a binary frame is read as UTF-8 JSON; invalid UTF-8 is a parse error', async () => {
    conn.ws.send(Buffer.from('{"jsonrpc":"2.0","id":"bin","method":"sum","params":[2,3]}'), { binary: true });
    assert.equal((await conn.response('bin')).result, 5);
    conn.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true });
    const err = await conn.take((f) => f.error?.code === -32700, 'parse error for bad UTF-8');
    assert.match(err.error.data, /UTF-8/);
  });
});
