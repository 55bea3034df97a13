// Calls from volley.js to the server: results, errors, notifications, batches, cancel,
// timeouts.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { connect, RpcError, DisconnectedError, TimeoutError, CancelledError } from '../volley.js';
import { startServer, baseOptions, within, rejection } from '../test-support/helpers.js';

describe('calls to the server', () => {
  let server;
  let peer;
  let conn;

  before(async () => {
    server = await startServer();
    peer = await within(connect(server.url, baseOptions()), 'connect');
    conn = await server.connection(0);
  });

  after(async () => {
    peer?.close();
    await server?.close();
  });

  test('a call resolves with its result; params by name and by position', async () => {
    assert.equal(peer.connected, true);
    assert.equal(await within(peer.call('add', { a: 1, b: 2 }), 'add'), 3);
    assert.equal(await within(peer.call('add', [40, 2]), 'add'), 42);
    assert.equal(await within(peer.call('echo'), 'echo'), null);
  });

  test('requests are plain JSON-RPC 2.0 with increasing integer ids', async () => {
    await within(peer.call('echo', { x: 1 }), 'echo');
    await within(peer.call('echo', [1]), 'echo');
    const sent = conn.raw.filter((t) => t.includes('"method":"echo"')).slice(-2).map((t) => JSON.parse(t));
    assert.deepEqual(sent[0], { jsonrpc: '2.0', id: sent[0].id, method: 'echo', params: { x: 1 } });
    assert.equal(typeof sent[0].id, 'number');
    assert.ok(Number.isInteger(sent[0].id));
    assert.ok(sent[1].id > sent[0].id);
    const bare = conn.raw.find((t) => t.includes('"method":"echo"') && !t.includes('params'));
    assert.ok(bare, 'a call without params sends no params member');
  });

  test('a remote error rejects with RpcError keeping code, message and data', async () => {
    const err = await rejection(peer.call('fail'), 'fail');
    assert.ok(err instanceof RpcError);
    assert.equal(err.name, 'RpcError');
    assert.equal(err.code, -32001);
    assert.equal(err.message, 'nope');
    assert.deepEqual(err.data, { why: 'because' });
    assert.ok(!(err instanceof DisconnectedError || err instanceof TimeoutError || err instanceof CancelledError));

    const missing = await rejection(peer.call('no.such.method'), 'unknown method');
    assert.ok(missing instanceof RpcError);
    assert.equal(missing.code, -32601);
    assert.equal(missing.data, undefined);
  });

  test('a malformed error object from the server becomes an RpcError -32603', async () => {
    const call = peer.call('hang', { tag: 'malformed' });
    const req = await conn.take((f) => f.method === 'hang' && f.params?.tag === 'malformed', 'hang request');
    conn.send({ jsonrpc: '2.0', id: req.id, error: 'not an object' });
    const err = await rejection(call, 'malformed error');
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, -32603);
    assert.match(String(err.data), /malformed error object/);
  });

  test('a response to an unknown id is ignored and the connection carries on', async () => {
    conn.send({ jsonrpc: '2.0', id: 987654, result: 'stray' });
    conn.send({ jsonrpc: '2.0', id: 'not-ours', error: { code: 1, message: 'x' } });
    assert.equal(await within(peer.call('add', [2, 2]), 'add after stray responses'), 4);
    assert.equal(peer.connected, true);
  });

  test('notify sends a notification (no id) and returns nothing', async () => {
    assert.equal(peer.notify('log', { line: 'hello' }), undefined);
    const note = await conn.take((f) => f.method === 'log', 'log notification');
    assert.deepEqual(note, { jsonrpc: '2.0', method: 'log', params: { line: 'hello' } });
  });

  test('params must be an array or an object', async () => {
    await assert.rejects(peer.call('echo', 5), TypeError);
    await assert.rejects(peer.call('echo', 'text'), TypeError);
    await assert.rejects(peer.call('echo', null), TypeError);
    await assert.rejects(peer.call(42), TypeError);
    assert.throws(() => peer.notify('log', 1), TypeError);
  });

  test('batch sends one array frame and resolves with outcomes in order', async () => {
    const outcomes = await within(
      peer.batch([
        { method: 'add', params: { a: 1, b: 2 } },
        { method: 'log', params: ['in a batch'], notify: true },
        { method: 'fail' },
        { method: 'add', params: [10, 20] },
      ]),
      'batch',
    );
    assert.equal(outcomes.length, 4);
    assert.deepEqual(outcomes[0], { result: 3 });
    assert.equal(outcomes[1], undefined);
    assert.ok(outcomes[2].error instanceof RpcError);
    assert.equal(outcomes[2].error.code, -32001);
    assert.deepEqual(outcomes[2].error.data, { why: 'because' });
    assert.deepEqual(outcomes[3], { result: 30 });

    const frame = await conn.take((f) => Array.isArray(f) && f.length === 4, 'batch frame');
    assert.deepEqual(frame[1], { jsonrpc: '2.0', method: 'log', params: ['in a batch'] });
    assert.ok(frame[0].id < frame[2].id && frame[2].id < frame[3].id);

    assert.deepEqual(await peer.batch([]), []);
    assert.deepEqual(await within(peer.batch([{ method: 'log', notify: true }]), 'notification batch'), [undefined]);
    const onlyNotes = await conn.take((f) => Array.isArray(f) && f.length === 1, 'notification batch frame');
    assert.equal(onlyNotes[0].id, undefined);
  });

  test('an AbortSignal cancels a call and sends rpc.cancel with its id', async () => {
    const controller = new AbortController();
    const call = peer.call('hang', { tag: 'abort' }, { signal: controller.signal });
    const req = await conn.take((f) => f.method === 'hang' && f.params?.tag === 'abort', 'hang request');
    controller.abort();
    const err = await rejection(call, 'aborted call');
    assert.ok(err instanceof CancelledError);
    assert.match(err.message, /"hang" \(id \d+\) was cancelled/);
    const cancel = await conn.take((f) => f.method === 'rpc.cancel', 'rpc.cancel');
    assert.deepEqual(cancel, { jsonrpc: '2.0', method: 'rpc.cancel', params: { id: req.id } });

    // A late answer to the cancelled call is dropped without harm.
    conn.send({ jsonrpc: '2.0', id: req.id, result: 'too late' });
    assert.equal(await within(peer.call('add', [1, 1]), 'add after cancel'), 2);
  });

  test('an already aborted signal fails the call before anything is sent', async () => {
    const before = conn.raw.length;
    const err = await rejection(peer.call('hang', undefined, { signal: AbortSignal.abort() }), 'pre-aborted call');
    assert.ok(err instanceof CancelledError);
    assert.equal(await within(peer.call('add', [0, 0]), 'add'), 0);
    assert.ok(!conn.raw.slice(before).some((t) => t.includes('"hang"')));
  });

  test('a call that outlives its timeout rejects with TimeoutError and sends rpc.cancel', async () => {
    const started = Date.now();
    const call = peer.call('hang', { tag: 'timeout' }, { timeoutMs: 100 });
    const req = await conn.take((f) => f.method === 'hang' && f.params?.tag === 'timeout', 'hang request');
    const err = await rejection(call, 'timed-out call');
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.name, 'TimeoutError');
    assert.match(err.message, /no answer within 100 ms/);
    assert.ok(Date.now() - started >= 90);
    const cancel = await conn.take((f) => f.method === 'rpc.cancel' && f.params?.id === req.id, 'rpc.cancel after timeout');
    assert.deepEqual(cancel.params, { id: req.id });
  });

  test('a batch times out as a whole and cancels what is unanswered', async () => {
    const batch = peer.batch([{ method: 'hang', params: { tag: 'b1' } }, { method: 'hang', params: { tag: 'b2' } }], {
      timeoutMs: 100,
    });
    const frame = await conn.take((f) => Array.isArray(f) && f[0]?.params?.tag === 'b1', 'batch frame');
    const err = await rejection(batch, 'timed-out batch');
    assert.ok(err instanceof TimeoutError);
    for (const item of frame) {
      await conn.take((f) => f.method === 'rpc.cancel' && f.params?.id === item.id, `rpc.cancel for ${item.id}`);
    }
  });

  test('the server answers rpc.ping with "pong"', async () => {
    assert.equal(await within(peer.call('rpc.ping'), 'rpc.ping'), 'pong');
  });
});
