// Shared by the stream tests (PROTOCOL.md, "Streams"): the fake server of helpers.js taught
// to leave subscribe requests to the test, messages of the subscription convention, frames
// written together in one socket write, and small synchronisation aids.

import { connect } from '../volley.js';
import { startServer, baseOptions, within } from './helpers.js';

/** A promise and its resolve. */
export function deferred() {
  /** @type {(value?: any) => void} */
  let resolve = () => {};
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
}

/** An item notification, as a producer sends it. */
export function item(method, subscription, result) {
  return { jsonrpc: '2.0', method, params: { subscription, result } };
}

/** The last notification of a stream: `error` null when it finished, else an error object. */
export function end(method, subscription, error = null) {
  return { jsonrpc: '2.0', method, params: { subscription, error } };
}

/**
 * A server-to-client WebSocket text frame (unmasked), as bytes.
 * @param {string} text
 * @returns {Buffer}
 */
function textFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  /** @type {Buffer} */
  let header;
  if (n < 126) header = Buffer.from([0x81, n]);
  else if (n < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

/**
 * Writes several messages, one WebSocket frame each, in a single write on the connection's
 * TCP socket: they reach the client in one chunk, read one right after the other.
 * @param {import('./helpers.js').Conn} conn
 * @param {unknown[]} messages
 */
export function sendTogether(conn, messages) {
  const frames = messages.map((m) => textFrame(typeof m === 'string' ? m : JSON.stringify(m)));
  /** @type {import('node:net').Socket} */ (/** @type {any} */ (conn.ws)._socket).write(Buffer.concat(frames));
}

/**
 * Makes the fake server's connection leave `subscribe*` requests unanswered (the test
 * answers them) and answer `unsubscribe*` requests with `true`; the requests stay in its
 * inbox for the test to take.
 * @param {import('./helpers.js').Conn} conn
 */
export function streaming(conn) {
  const base = conn.answer.bind(conn);
  conn.answer = (m) => {
    if (typeof m.method === 'string' && m.id !== undefined) {
      if (m.method.startsWith('subscribe')) return undefined;
      if (m.method.startsWith('unsubscribe')) return { jsonrpc: '2.0', id: m.id, result: true };
    }
    return base(m);
  };
  return conn;
}

/**
 * A fake server and a volley.js peer connected to it; the connection answers as
 * {@link streaming} says. `mark()` sends the client a `mark` notification and resolves once
 * its handler ran: everything the server sent before it has been read by then.
 * @param {object} [options] Connect options (handlers may be given; `mark` is added).
 */
export async function streamingPair(options = {}) {
  const server = await startServer();
  /** @type {Array<() => void>} */
  const marks = [];
  const handlers = { ...(/** @type {any} */ (options).handlers ?? {}), mark: () => marks.shift()?.() };
  const peer = await within(connect(server.url, baseOptions({ ...options, handlers })), 'connect');
  const conn = streaming(await server.connection(0));
  return {
    server,
    peer,
    conn,
    mark() {
      const done = new Promise((resolve) => marks.push(() => resolve(undefined)));
      conn.send({ jsonrpc: '2.0', method: 'mark' });
      return within(done, 'the mark notification');
    },
    async close() {
      peer.close();
      await server.close();
    },
  };
}

/**
 * Takes the next subscribe request named `method` and answers it with `id`; resolves with
 * the request.
 * @param {import('./helpers.js').Conn} conn
 * @param {string} method
 * @param {unknown} id
 */
export async function accept(conn, method, id) {
  const request = await conn.take((f) => f.method === method && f.id !== undefined, `the ${method} request`);
  conn.send({ jsonrpc: '2.0', id: request.id, result: id });
  return request;
}

/**
 * Iterates `sub` to its end, under a deadline: the items, and the error that ended it
 * (`null` when it ended normally).
 * @param {AsyncIterable<unknown>} sub
 * @param {string} [what]
 * @returns {Promise<{ items: unknown[], error: any }>}
 */
export function collect(sub, what = 'the end of the stream') {
  const run = async () => {
    const items = [];
    try {
      for await (const x of sub) items.push(x);
    } catch (error) {
      return { items, error };
    }
    return { items, error: null };
  };
  return within(run(), what);
}
