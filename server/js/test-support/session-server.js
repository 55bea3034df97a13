// A stand-in for a volley server with session resumption (PROTOCOL.md, "Session
// resumption"), on the `ws` package's WebSocketServer: the hello, counting, `rpc.ack`,
// the replay of what the client missed, the grace period. And ways to break things on
// purpose: cut a socket without a close frame, lose frames in transit either way, withhold
// acknowledgements, expire a session, refuse connections for a while.

import { WebSocketServer } from 'ws';
import { within, DEADLINE_MS } from './helpers.js';

/**
 * Starts a stand-in server on 127.0.0.1.
 *
 * It serves `add` ([a, b] or {a, b}), `echo`, `hang` (never answered), `gate {key}` and
 * `wait {key}` (answered with `key` once the test calls `server.release(key)`, or a client
 * calls `release {key}`), `ask {question}` (calls `confirm` on the client and answers
 * with its result) and `rpc.ping`. Every request it runs is recorded in `executed`.
 *
 * @param {{ graceMs?: number, hello?: boolean, withholdAcks?: boolean, answerPings?: boolean }} [options]
 *   `hello: false` makes a server without the extension (every connection is plain).
 */
export async function startSessionServer(options = {}) {
  const server = new SessionServer(options);
  await within(
    new Promise((resolve, reject) => {
      server.wss.once('listening', resolve);
      server.wss.once('error', reject);
    }),
    'listening session server',
  );
  server.port = /** @type {import('node:net').AddressInfo} */ (server.wss.address()).port;
  server.url = `ws://127.0.0.1:${server.port}/ws`;
  return server;
}

export class SessionServer {
  /** @param {{ graceMs?: number, hello?: boolean, withholdAcks?: boolean, answerPings?: boolean }} options */
  constructor(options) {
    this.graceMs = options.graceMs ?? 30_000;
    this.offersSessions = options.hello ?? true;
    this.withholdAcks = options.withholdAcks ?? false;
    this.answerPings = options.answerPings ?? true;
    /** While true, upgrades get 503. */
    this.refuse = false;
    this.port = 0;
    this.url = '';
    /** Every session (or plain connection) started, in order. @type {Session[]} */
    this.sessions = [];
    /** @type {Map<string, Session>} */
    this.byId = new Map();
    /** The request URL of every upgrade. @type {string[]} */
    this.upgrades = [];
    /** Every request run: `{ session, method, params }`. @type {Array<{ session: Session, method: string, params: any }>} */
    this.executed = [];
    /** @type {Map<unknown, { promise: Promise<unknown>, resolve: (v: unknown) => void }>} */
    this.gates = new Map();
    /** @type {Array<() => void>} */
    this.waiters = [];
    this.wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (_info, done) => done(!this.refuse, 503),
    });
    this.wss.on('connection', (ws, request) => this.#accept(ws, request.url ?? ''));
  }

  /** How many times `method` ran (with `params.key === key` when given). */
  runs(method, key) {
    return this.executed.filter((e) => e.method === method && (key === undefined || e.params?.key === key)).length;
  }

  /** Lets `gate`/`wait` calls with this key answer (with `value`, by default the key). */
  release(key, value = key) {
    this.#gate(key).resolve(value);
  }

  /** The `i`-th session started (waits for it). */
  session(i = 0) {
    return this.until(() => this.sessions[i], `session #${i}`);
  }

  /**
   * Resolves with `pred()`'s first truthy value, checked now and after everything that
   * happens on the server, or rejects after `ms`.
   * @template T
   * @param {() => T} pred
   * @param {string} what
   * @param {number} [ms]
   * @returns {Promise<NonNullable<T>>}
   */
  until(pred, what, ms = DEADLINE_MS) {
    return within(
      new Promise((resolve) => {
        const check = () => {
          const v = pred();
          if (v) resolve(/** @type {NonNullable<T>} */ (v));
          else this.waiters.push(check);
        };
        check();
      }),
      what,
      ms,
    );
  }

  changed() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async close() {
    for (const s of this.sessions) s.end('server closing');
    for (const ws of this.wss.clients) ws.terminate();
    await within(new Promise((resolve) => this.wss.close(() => resolve(undefined))), 'session server close');
  }

  /**
   * @param {import('ws').WebSocket} ws
   * @param {string} path
   */
  #accept(ws, path) {
    this.upgrades.push(path);
    const query = new URL(path, 'http://x').searchParams;
    const asked = this.offersSessions ? query.get('volley_session') : null;
    /** @type {Session} */
    let session;
    if (asked === null) {
      session = this.#start(false);
      session.attach(ws, null);
    } else {
      const found = asked === 'new' ? undefined : this.byId.get(asked);
      if (found && !found.ended && found.token === query.get('volley_resume_token')) {
        session = found;
        session.attach(ws, Number(query.get('volley_received') ?? '0'));
      } else {
        session = this.#start(true);
        session.attach(ws, null);
      }
    }
    ws.on('message', (data) => session.onFrame(ws, data.toString()));
    ws.on('close', (code) => session.onClose(ws, code));
    this.changed();
  }

  /** @param {boolean} numbered */
  #start(numbered) {
    const session = new Session(this, numbered);
    this.sessions.push(session);
    if (numbered) this.byId.set(session.id, session);
    return session;
  }

  /** @param {unknown} key */
  #gate(key) {
    let gate = this.gates.get(key);
    if (!gate) {
      /** @type {(v: unknown) => void} */
      let resolve = () => {};
      const promise = new Promise((r) => (resolve = r));
      gate = { promise, resolve };
      this.gates.set(key, gate);
    }
    return gate;
  }

  /**
   * Runs a request; returns the response object, a promise of it, or undefined (no answer).
   * @param {Session} session
   * @param {any} m
   */
  run(session, m) {
    this.executed.push({ session, method: m.method, params: m.params });
    const p = m.params;
    const ok = (/** @type {unknown} */ result) => ({ jsonrpc: '2.0', id: m.id, result });
    switch (m.method) {
      case 'rpc.ping':
        return this.answerPings ? ok('pong') : undefined;
      case 'add':
        return ok(Array.isArray(p) ? p[0] + p[1] : p.a + p.b);
      case 'echo':
        return ok(p ?? null);
      case 'hang':
        return undefined;
      case 'gate':
      case 'wait':
        return this.#gate(p.key).promise.then(ok);
      case 'release':
        this.release(p.key);
        return ok(true);
      case 'ask':
        return session.request('confirm', { question: p.question }).then((answer) => ok(answer.result));
      default:
        return { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } };
    }
  }
}

let sessionCount = 0;

/** One session (or, not `numbered`, one plain connection) seen from the stand-in. */
export class Session {
  /**
   * @param {SessionServer} server
   * @param {boolean} numbered
   */
  constructor(server, numbered) {
    sessionCount += 1;
    this.server = server;
    this.numbered = numbered;
    this.id = `s${sessionCount}-${Math.random().toString(16).slice(2, 10)}`;
    this.token = Math.random().toString(16).slice(2);
    /** @type {import('ws').WebSocket | null} */
    this.ws = null;
    this.sent = 0;
    this.received = 0;
    this.ackSent = 0;
    /** Frames sent and not acknowledged. @type {Array<{ n: number, text: string }>} */
    this.replay = [];
    this.ended = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.ackTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.graceTimer = undefined;
    /** Every counted message from the client (batch items one by one), in order. @type {any[]} */
    this.inbox = [];
    /** The text of every counted frame from the client, in order. @type {string[]} */
    this.frames = [];
    /** The counts in the client's `rpc.ack`s. @type {number[]} */
    this.acks = [];
    /** The hellos sent. @type {any[]} */
    this.hellos = [];
    /** Close codes of this session's sockets, as the server saw them. @type {number[]} */
    this.closes = [];
    /** While true, frames from the client are lost in transit (neither counted nor read). */
    this.dropIncoming = false;
    /** Frames from the client lost that way. */
    this.lost = 0;
    /** While true, frames to the client are numbered and kept, but lost in transit. */
    this.dropOutgoing = false;
    /** How many responses arrived for each id this server sent. @type {Map<number, number>} */
    this.answers = new Map();
    /** @type {Map<number, (response: any) => void>} */
    this.calls = new Map();
    this.nextId = 1;
  }

  /**
   * A socket for this session: a new one (`clientReceived` null) or a resume.
   * @param {import('ws').WebSocket} ws
   * @param {number | null} clientReceived
   */
  attach(ws, clientReceived) {
    const old = this.ws;
    this.ws = ws;
    clearTimeout(this.graceTimer);
    // The old socket's peer is gone, whatever TCP says: dropped without a close frame.
    if (old) old.terminate();
    if (!this.numbered) return;
    const hello = {
      id: this.id,
      token: this.token,
      resumed: clientReceived !== null,
      received: this.received,
      graceMs: this.server.graceMs,
    };
    this.hellos.push(hello);
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.session', params: hello }));
    this.ackSent = this.received;
    if (clientReceived !== null) {
      this.#trim(clientReceived);
      for (const f of this.replay) ws.send(f.text);
    }
  }

  /**
   * @param {import('ws').WebSocket} ws
   * @param {string} text
   */
  onFrame(ws, text) {
    if (ws !== this.ws || this.ended) return;
    /** @type {any} */
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      m = undefined;
    }
    if (this.numbered && isControl(m)) {
      if (m.method === 'rpc.ack') {
        this.acks.push(m.params.received);
        this.#trim(m.params.received);
      }
      this.server.changed();
      return;
    }
    if (this.dropIncoming) {
      this.lost += 1;
      this.server.changed();
      return;
    }
    this.frames.push(text);
    if (this.numbered) {
      this.received += 1;
      this.#scheduleAck();
    }
    if (Array.isArray(m)) {
      const replies = m.map((item) => this.#read(item)).filter((r) => r !== undefined);
      if (replies.length > 0) Promise.all(replies).then((all) => this.send(all));
    } else if (m !== undefined) {
      const reply = this.#read(m);
      if (reply !== undefined) Promise.resolve(reply).then((r) => this.send(r));
    }
    this.server.changed();
  }

  /**
   * @param {any} m
   * @returns {unknown}
   */
  #read(m) {
    this.inbox.push(m);
    if (m.method === undefined) {
      this.answers.set(m.id, (this.answers.get(m.id) ?? 0) + 1);
      this.calls.get(m.id)?.(m);
      this.calls.delete(m.id);
      return undefined;
    }
    if (m.id === undefined) return undefined;
    return this.server.run(this, m);
  }

  /**
   * @param {import('ws').WebSocket} ws
   * @param {number} code
   */
  onClose(ws, code) {
    if (ws !== this.ws) return;
    this.closes.push(code);
    this.#detach(code);
    this.server.changed();
  }

  /** Drops the socket without a close frame (a lost connection, as the client sees it). */
  cut() {
    const ws = this.ws;
    if (!ws) throw new Error('cut: the session has no socket');
    this.#detach(1006);
    ws.terminate();
    this.server.changed();
  }

  /** Ends the session now, as if its grace period had passed. */
  expire() {
    this.end('expired');
  }

  /** @param {string} _why */
  end(_why) {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.graceTimer);
    clearTimeout(this.ackTimer);
    this.server.byId.delete(this.id);
    const ws = this.ws;
    this.ws = null;
    ws?.terminate();
    this.server.changed();
  }

  /**
   * Sends a message (an object, or text as it is): numbered and kept on a session; lost
   * in transit while `dropOutgoing`; written on the next socket when there is none now.
   * @param {unknown} value
   */
  send(value) {
    if (this.ended) return;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (this.numbered) {
      this.sent += 1;
      this.replay.push({ n: this.sent, text });
    }
    if (this.ws && !this.dropOutgoing) this.ws.send(text);
    this.server.changed();
  }

  /** Calls `method` on the client; resolves with its response. */
  request(method, params) {
    const id = this.nextId++;
    const answered = new Promise((resolve) => this.calls.set(id, resolve));
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return /** @type {Promise<any>} */ (answered);
  }

  notify(method, params) {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /** Acknowledges now what was received (also while `withholdAcks`). */
  ack() {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (!this.ws || this.received === this.ackSent) return;
    this.ackSent = this.received;
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.ack', params: { received: this.received } }));
    this.server.changed();
  }

  #scheduleAck() {
    if (this.server.withholdAcks) return;
    if (this.received - this.ackSent >= 32) this.ack();
    else this.ackTimer ??= setTimeout(() => this.ack(), 100);
  }

  /** @param {number} received */
  #trim(received) {
    while (this.replay.length > 0 && this.replay[0].n <= received) this.replay.shift();
  }

  /** @param {number} code */
  #detach(code) {
    this.ws = null;
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (!this.numbered || code !== 1006) {
      this.end(`socket closed with ${code}`);
      return;
    }
    this.graceTimer = setTimeout(() => this.end('grace period over'), this.server.graceMs);
  }
}

/** @param {any} m */
function isControl(m) {
  return (
    m !== null &&
    typeof m === 'object' &&
    !Array.isArray(m) &&
    m.id === undefined &&
    (m.method === 'rpc.ack' || m.method === 'rpc.session')
  );
}
