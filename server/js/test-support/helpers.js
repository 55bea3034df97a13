// Shared by the tests: deadlines, event waits, and an in-process fake JSON-RPC server built
// on the `ws` package's WebSocketServer (no Rust needed).

import { WebSocketServer, WebSocket } from 'ws';

export { WebSocket };

/** Default deadline of every wait in the tests. */
export const DEADLINE_MS = 5000;

/**
 * Resolves or rejects like `promise`, or rejects after `ms` naming what was awaited.
 * @template T
 * @param {Promise<T>} promise
 * @param {string} what
 * @param {number} [ms]
 * @returns {Promise<T>}
 */
export function within(promise, what, ms = DEADLINE_MS) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The next `type` event from an EventTarget (a volley Peer).
 * @param {EventTarget} target
 * @param {string} type
 * @param {number} [ms]
 * @returns {Promise<any>}
 */
export function nextEvent(target, type, ms = DEADLINE_MS) {
  return within(new Promise((resolve) => target.addEventListener(type, resolve, { once: true })), `"${type}" event`, ms);
}

/**
 * Asserts that `promise` rejects within the deadline, and returns the error.
 * @param {Promise<unknown>} promise
 * @param {string} what
 * @returns {Promise<any>}
 */
export async function rejection(promise, what) {
  const outcome = await within(
    promise.then(
      (value) => ({ ok: true, value }),
      (error) => ({ ok: false, error }),
    ),
    what,
  );
  if (outcome.ok) throw new Error(`expected ${what} to fail, but it resolved with ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/** The connection options every test starts from: `ws` as the WebSocket class, no heartbeat. */
export function baseOptions(extra = {}) {
  return { WebSocket, heartbeat: false, reconnect: false, ...extra };
}

/**
 * A fake volley server on 127.0.0.1. It answers `add`, `echo`, `fail`, `rpc.ping` (unless
 * `answerPings` is false) and batches of those; it never answers `hang`. Every frame it
 * receives is kept in the connection's inbox for the test to inspect.
 *
 * @param {{ port?: number, answerPings?: boolean }} [options]
 */
export async function startServer(options = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 });
  await within(new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  }), 'listening server');
  const port = /** @type {import('node:net').AddressInfo} */ (wss.address()).port;
  /** @type {Conn[]} */
  const connections = [];
  /** @type {Array<() => void>} */
  let waiters = [];
  const server = {
    wss,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    answerPings: options.answerPings ?? true,
    connections,
    /** The `i`-th connection this server accepted (waits for it). */
    connection(i = 0, what = `connection #${i}`) {
      return within(
        new Promise((resolve) => {
          const check = () => {
            if (connections[i]) resolve(connections[i]);
            else waiters.push(check);
          };
          check();
        }),
        what,
      );
    },
    /** Stops listening and drops every connection (without a closing handshake). */
    async close() {
      for (const c of connections) c.ws.terminate();
      await within(new Promise((resolve) => wss.close(() => resolve(undefined))), 'server close');
    },
  };
  wss.on('connection', (ws, request) => {
    connections.push(new Conn(ws, server, request.url ?? ''));
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  return server;
}

/** One connection seen from the fake server. */
export class Conn {
  /**
   * @param {WebSocket} ws
   * @param {{ answerPings: boolean }} server
   * @param {string} path
   */
  constructor(ws, server, path) {
    this.ws = ws;
    this.server = server;
    this.path = path;
    /** Every frame received, parsed, in order (`raw` has the text). */
    this.frames = /** @type {any[]} */ ([]);
    this.raw = /** @type {string[]} */ ([]);
    /** @type {Array<() => void>} */
    this.waiters = [];
    this.nextId = 1;
    this.closed = within(
      new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
      'server-side close',
      20_000,
    );
    this.closed.catch(() => {});
    ws.on('message', (data) => {
      const text = data.toString();
      const message = JSON.parse(text);
      this.raw.push(text);
      this.frames.push(message);
      const reply = Array.isArray(message)
        ? message.map((m) => this.answer(m)).filter((r) => r !== undefined)
        : this.answer(message);
      if (Array.isArray(reply) ? reply.length > 0 : reply !== undefined) ws.send(JSON.stringify(reply));
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  /** The fake server's own methods. */
  answer(m) {
    if (typeof m.method !== 'string' || m.id === undefined) return undefined;
    const ok = (result) => ({ jsonrpc: '2.0', id: m.id, result });
    const p = m.params;
    switch (m.method) {
      case 'add':
        return ok(Array.isArray(p) ? p[0] + p[1] : p.a + p.b);
      case 'echo':
        return ok(p ?? null);
      case 'fail':
        return { jsonrpc: '2.0', id: m.id, error: { code: -32001, message: 'nope', data: { why: 'because' } } };
      case 'rpc.ping':
        return this.server.answerPings ? ok('pong') : undefined;
      case 'hang':
        return undefined;
      default:
        return { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } };
    }
  }

  /**
   * The first received frame (after those already taken) that matches `pred`; waits for it.
   * @param {(frame: any) => boolean} pred
   * @param {string} what
   * @param {number} [ms]
   */
  take(pred, what, ms) {
    return within(
      new Promise((resolve) => {
        const check = () => {
          const i = this.frames.findIndex((f) => f !== undefined && pred(f));
          if (i >= 0) {
            const frame = this.frames[i];
            this.frames[i] = undefined;
            resolve(frame);
          } else this.waiters.push(check);
        };
        check();
      }),
      what,
      ms,
    );
  }

  /** The response to request `id` sent by this server. */
  response(id, what = `response to id ${id}`) {
    return this.take((f) => !Array.isArray(f) && f.method === undefined && f.id === id, what);
  }

  /** Sends a JSON value, or a string as it is. */
  send(value) {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /** Sends a request to the client and resolves with the client's response. */
  request(method, params) {
    const id = 1000 + this.nextId++;
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return this.response(id);
  }
}
