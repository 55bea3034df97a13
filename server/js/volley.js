// @ts-check
/**
 * volley.js: bidirectional JSON-RPC 2.0 over WebSocket, for browsers and Node.
 *
 * Zero dependencies, one ES module. The wire rules are volley's PROTOCOL.md: plain
 * JSON-RPC 2.0, both ends send requests, notifications and responses on one socket, plus
 * the extensions `rpc.cancel`, `rpc.ping` and `rpc.discover`, and session resumption
 * (`rpc.session`, `rpc.ack`): with a server that offers it, calls and notifications in
 * flight both ways survive a dropped socket, each delivered once. Streams (PROTOCOL.md,
 * "Streams") go both ways too: `peer.subscribe` consumes one as an async iterable, and a
 * handler made with `stream()` serves one from an async generator.
 *
 * ```js
 * import { connect, RpcError, DisconnectedError } from './volley.js';
 *
 * const peer = await connect('/ws', {
 *   handlers: { confirm: ({ question }) => window.confirm(question) },
 * });
 * const sum = await peer.call('add', { a: 1, b: 2 });
 * ```
 *
 * @module volley
 */

const VERSION = '0.1.0';

/** The JSON-RPC error codes volley uses (PROTOCOL.md, "Error codes"). */
export const ErrorCodes = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  REQUEST_CANCELLED: -32800,
  BATCH_TOO_LARGE: -32010,
  UPSTREAM_CALL_FAILED: -32011,
  SHUTTING_DOWN: -32012,
  TOO_MANY_STREAMS: -32015,
});

const DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  connectTimeoutMs: 30_000,
  reconnect: Object.freeze({ initialDelayMs: 250, maxDelayMs: 10_000, factor: 2 }),
  heartbeat: Object.freeze({ intervalMs: 15_000, timeoutMs: 10_000 }),
  queueWhileDisconnected: 100,
  maxReplayBytes: 262_144,
  maxStreams: 1024,
  bufferSize: 1024,
});

/** Close code volley.js uses when a heartbeat `rpc.ping` goes unanswered. */
const HEARTBEAT_CLOSE_CODE = 4000;

/** setTimeout's largest delay; longer (or infinite) deadlines mean "no deadline". */
const MAX_TIMER_MS = 2_147_483_647;

// Session resumption (PROTOCOL.md, "Session resumption").
/** Received frames are acknowledged at once when this many are unacknowledged... */
const ACK_EVERY = 32;
/** ...otherwise at most this long after the first unacknowledged one. */
const ACK_DELAY_MS = 100;
/**
 * How long after a socket opens the server's `rpc.session` hello may come. A socket that
 * gets no frame at all within it is taken as plain (the server does not know the extension).
 */
const HELLO_WAIT_MS = 10_000;
/** Calls and notifications that may wait for a session's socket (or for acknowledgements). */
const SESSION_QUEUE_LIMIT = 1024;
/** How many times an idempotent call is sent again on a new connection. */
const MAX_RESENDS = 3;

// Streams (PROTOCOL.md, "Streams").
/**
 * A served stream pulls its next item only once the socket holds less than this many bytes
 * not yet handed to the network (`bufferedAmount`), so a slow reader slows its producers.
 */
const STREAM_HIGH_WATER_BYTES = 1_048_576;
/** How often a served stream held back by {@link STREAM_HIGH_WATER_BYTES} looks again. */
const STREAM_DRAIN_POLL_MS = 10;
/**
 * A served stream whose producer never waits lets the event loop run (frames in, timers)
 * after this many items in a row.
 */
const STREAM_ITEMS_PER_TURN = 256;
/**
 * How many ended subscriptions are remembered so that items still on their way for them
 * are dropped rather than handed to a handler of the same name.
 */
const ENDED_STREAMS_KEPT = 1024;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * The remote peer answered with a JSON-RPC error object: "the remote said no".
 * Handlers may throw one to answer with a chosen code, message and data.
 */
export class RpcError extends Error {
  /**
   * @param {number} code JSON-RPC error code.
   * @param {string} message The error's message, as sent on the wire.
   * @param {unknown} [data] Extra information, as sent on the wire (`undefined` when absent).
   */
  constructor(code, message, data) {
    super(message);
    this.name = 'RpcError';
    /** @type {number} */
    this.code = code;
    /** @type {unknown} */
    this.data = data;
  }
}

/**
 * The call got no answer because the connection was down, dropped, or closed, or it could
 * not be queued. The remote peer may or may not have run it.
 */
export class DisconnectedError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'DisconnectedError';
  }
}

/** The call got no answer within its deadline (`rpc.cancel` was sent for it). */
export class TimeoutError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'TimeoutError';
  }
}

/** The call was cancelled through its `AbortSignal` (`rpc.cancel` was sent if it was on the wire). */
export class CancelledError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'CancelledError';
  }
}

/**
 * The call was written on a resumable session that the server no longer had when the
 * client came back (its grace period passed, or it restarted): the remote peer may or may
 * not have run it. Calls never written, and idempotent ones, do not fail this way: they go
 * to the new session.
 */
export class SessionExpiredError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'SessionExpiredError';
  }
}

/**
 * A stream this peer consumed ended because its code fell more than `bufferSize` items
 * behind: the items already buffered were delivered first, and the stream was cancelled
 * (its unsubscribe method was sent). Subscribe again to carry on.
 */
export class LaggedError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'LaggedError';
  }
}

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/**
 * Parameters of a call: by position (array) or by name (object).
 * @typedef {readonly unknown[] | { readonly [name: string]: unknown }} Params
 */

/**
 * What a handler gets besides the params.
 * @typedef {object} HandlerContext
 * @property {AbortSignal} signal Aborted when the caller sends `rpc.cancel` for this request,
 *   or when the connection drops.
 * @property {Peer} peer The peer the request came from (to call it back).
 */

/**
 * A method this peer serves. Gets the params as sent (object, array, or `undefined`); its
 * return value (or what its promise resolves to) is the result. A thrown error with an
 * integer `code` (an {@link RpcError}, say) is sent with its `code`, `message` and `data`;
 * any other becomes -32603 "Internal error" with the error's message as `data`.
 * @callback Handler
 * @param {any} params
 * @param {HandlerContext} context
 * @returns {unknown}
 */

/**
 * @typedef {object} ReconnectOptions
 * @property {number} [initialDelayMs=250] Ceiling of the first delay.
 * @property {number} [maxDelayMs=10000] Largest ceiling; also how long a connection must stay
 *   up before the backoff starts over.
 * @property {number} [factor=2] How much the ceiling grows with each failed attempt.
 */

/**
 * @typedef {object} HeartbeatOptions
 * @property {number} [intervalMs=15000] Time from one answered `rpc.ping` to the next ping.
 * @property {number} [timeoutMs=10000] How long to wait for "pong" before closing the socket
 *   (code 4000) and reconnecting.
 */

/**
 * The part of the WebSocket interface volley.js uses: the browser's, Node >= 22's global,
 * or the npm `ws` package's.
 * @typedef {object} WebSocketLike
 * @property {number} readyState
 * @property {string} binaryType
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {(type: string, listener: (event: any) => void) => void} addEventListener
 * @property {() => void} [terminate] Drops the connection without a close frame (the `ws`
 *   package has it). Used to give up on the socket of a resumable session: a close frame
 *   would end the session.
 */

/** @typedef {new (url: string) => WebSocketLike} WebSocketConstructor */

/**
 * @typedef {object} ConnectOptions
 * @property {Record<string, Handler> | object} [handlers] Methods the remote peer may call on
 *   this one, by name. Looked up at each call, so methods may be added later.
 * @property {number} [timeoutMs=30000] Default deadline of `call` and `batch`; `0` or
 *   `Infinity` for none.
 * @property {number} [connectTimeoutMs=30000] How long `connect` waits for the first open
 *   socket (across attempts when reconnecting), and how long each attempt may take.
 * @property {boolean | ReconnectOptions} [reconnect=true] Reconnect with exponential backoff
 *   and full jitter when the connection drops.
 * @property {boolean | HeartbeatOptions} [heartbeat=true] Send `rpc.ping` periodically and
 *   reconnect when it goes unanswered.
 * @property {boolean | number} [queueWhileDisconnected=false] Hold calls, notifications and
 *   batches made while disconnected (up to this many; `true` means 100) and send them once
 *   connected again. When off, they fail at once with {@link DisconnectedError}. (While a
 *   resumable session waits for its socket, they are held for it regardless.)
 * @property {boolean} [resume] Ask the server for a resumable session (PROTOCOL.md,
 *   "Session resumption"); on by default when `reconnect` is on, and never without it. A
 *   server that offers it answers with an `rpc.session` hello; then a socket lost without a
 *   close frame does not fail the calls in flight, nor abort the handlers running: the
 *   client reconnects, resumes the session, and each side writes again what the other
 *   missed. A server without the extension gives a plain connection.
 * @property {number} [maxReplayBytes=262144] Bytes of sent frames a session keeps until the
 *   server acknowledges them; when full, further frames wait until an acknowledgement
 *   frees room (an empty buffer takes one frame of any size).
 * @property {string} [token] A token for the server's authentication, sent as the `token`
 *   query parameter of every connection attempt (browsers cannot set headers on a WebSocket).
 * @property {number} [maxStreams=1024] Streams this peer serves at once (handlers made with
 *   {@link stream}); one more subscribe is refused with -32015 "Too many streams".
 * @property {WebSocketConstructor} [WebSocket] The WebSocket class to use (default: the
 *   global one). On Node 20, pass `WebSocket` from the `ws` package.
 */

/**
 * @typedef {object} CallOptions
 * @property {number} [timeoutMs] Deadline for the answer (default: the peer's `timeoutMs`).
 * @property {AbortSignal} [signal] Cancels the call: it rejects with {@link CancelledError}
 *   and `rpc.cancel` is sent.
 * @property {boolean} [idempotent=false] Running the call twice does no harm: when the
 *   socket drops before its answer and there is no session to resume (or the session
 *   expired), it is sent again on the next connection (up to 3 times) instead of failing.
 */

/**
 * @typedef {object} SubscribeOptions
 * @property {string} [item] The method of the item notifications (default: the subscribe
 *   method's name without its `subscribe_` prefix, see {@link Peer#subscribe}).
 * @property {string} [unsubscribe] The method that cancels the stream (default: `un` + the
 *   subscribe method's name).
 * @property {AbortSignal} [signal] Cancels the subscription: before the answer, `subscribe`
 *   rejects with {@link CancelledError} (`rpc.cancel` is sent); after it, the iteration
 *   ends and the unsubscribe method is sent.
 * @property {number} [timeoutMs] Deadline for the answer to the subscribe request (default:
 *   the peer's `timeoutMs`); items may take as long as they like.
 * @property {number} [bufferSize=1024] Items kept that the code has not taken yet; one more
 *   ends the stream with {@link LaggedError} and cancels it.
 */

/**
 * What a stream handler gets besides the params: a {@link HandlerContext} whose `signal`
 * is aborted when the consumer unsubscribes or the connection ends.
 * @typedef {HandlerContext} StreamContext
 */

/**
 * The producer of a served stream: gets the params and a context, and returns (or resolves
 * with) an async iterable or an iterable of the items, an async generator typically.
 * @callback StreamProducer
 * @param {any} params
 * @param {StreamContext} context
 * @returns {AsyncIterable<unknown> | Iterable<unknown> | PromiseLike<AsyncIterable<unknown> | Iterable<unknown>>}
 */

/**
 * @typedef {object} StreamOptions
 * @property {string} [item] The method of the item notifications (default: the name the
 *   handler is served under, without its `subscribe_` prefix).
 * @property {string} [unsubscribe] The method that cancels the stream (default: `un` + the
 *   name the handler is served under).
 */

/**
 * @typedef {object} BatchItem
 * @property {string} method
 * @property {Params} [params]
 * @property {boolean} [notify] Send as a notification (no answer, no outcome).
 */

/**
 * One call's outcome in a batch: `{ result }` or `{ error }` (an {@link RpcError}).
 * @typedef {{ result: unknown, error?: undefined } | { error: RpcError, result?: undefined }} BatchOutcome
 */

// ---------------------------------------------------------------------------------------
// Internal types
// ---------------------------------------------------------------------------------------

/**
 * One WebSocket and its state. A link that died ignores everything its socket does later.
 * @typedef {object} Link
 * @property {WebSocketLike} ws
 * @property {boolean} open The socket is open.
 * @property {boolean} ready Frames may be written: open and, on a dial that resumes a
 *   session, past the server's hello.
 * @property {boolean} dead
 * @property {'new' | 'resume' | null} ask What the dial asked for: a new session, the
 *   resumption of the current one, or nothing (resumption off).
 * @property {boolean} awaitingHello Asked for a session, and no frame has arrived yet.
 * @property {ReturnType<typeof setTimeout> | undefined} helloTimer
 * @property {Session | null} session The session this socket carries: on a dial for a new
 *   one, from the open (frames written before the hello are numbered too, as the server
 *   counts them), and kept if the first frame is the hello. `null` on a plain socket.
 * @property {number} openedAt
 * @property {ReturnType<typeof setTimeout> | undefined} attemptTimer
 * @property {string} lastError
 * @property {Promise<void> | null} backlog Frames waiting behind a Blob being read.
 * @property {number} backlogCount
 */

/**
 * An outgoing message, sent at once or waiting in the queue for the connection.
 * @typedef {object} Outgoing
 * @property {string} frame
 * @property {(link: Link) => void} [onSent] Called just before the frame is written.
 * @property {(why: string) => void} fail Called when it will never be sent.
 * @property {Link} [owner] For a reply or an `rpc.cancel`: the socket whose request it
 *   concerns. It is dropped unless that socket's session (or, plain, the socket) is still there.
 * @property {number} [size] The frame's length in UTF-8 bytes, once known.
 */

/**
 * An id this peer sent and awaits an answer for.
 * @typedef {object} Pending
 * @property {(message: any) => void} answer
 * @property {(why: string, expired: boolean) => Outgoing | null} lost The connection (or
 *   the session: `expired`) went before the answer came. Fails the call, or returns what to
 *   send again (an idempotent call).
 */

/**
 * A resumable session (PROTOCOL.md, "Session resumption"): the numbering, counting and
 * replay buffer that outlive the sockets.
 * @typedef {object} Session
 * @property {string} id
 * @property {string} token
 * @property {number} graceMs
 * @property {number} sent The number of the last counted frame written.
 * @property {number} received Counted frames received.
 * @property {number} ackSent The count last acknowledged to the server (or sent in the query).
 * @property {Array<{ n: number, frame: string, size: number }>} replay Counted frames
 *   written and not yet acknowledged, oldest first.
 * @property {number} replayBytes
 * @property {ReturnType<typeof setTimeout> | undefined} ackTimer
 */

/**
 * The `rpc.session` hello's params.
 * @typedef {object} Hello
 * @property {string} id
 * @property {string} token
 * @property {boolean} resumed
 * @property {number} received
 * @property {number} graceMs
 */

/**
 * A request or notification from the remote peer whose handler is running, or a stream
 * this peer serves.
 * @typedef {object} Running
 * @property {AbortController} controller
 * @property {() => void} [cancel] Answers -32800 (requests only).
 */

/**
 * What a handler made with {@link stream} carries.
 * @typedef {object} StreamSpec
 * @property {string | undefined} item
 * @property {string | undefined} unsubscribe
 */

/**
 * A stream this peer serves, from the answer to its subscribe request until it ends.
 * @typedef {object} Served
 * @property {number} id The subscription id this peer gave.
 * @property {string} item
 * @property {string} unsubscribe
 * @property {AbortController} controller Aborted when the consumer unsubscribes or the
 *   connection ends.
 * @property {AsyncIterator<unknown> | Iterator<unknown>} iterator
 * @property {boolean} sync Whether `iterator` is a plain (sync) iterator.
 * @property {symbol} key Its key in the running handlers.
 */

/**
 * What a subscription needs from its peer.
 * @typedef {object} SubscriptionLink
 * @property {() => Promise<void>} cancel Stops routing its items and sends the unsubscribe
 *   method; resolves once that is answered (or could not be).
 */

const TOKEN = Symbol('volley.connect');
/** Where {@link stream} keeps a stream handler's options. */
const STREAM = Symbol('volley.stream');
/** A subscription's internal methods, for its peer only. */
const DELIVER = Symbol('volley.deliver');
const FINISH = Symbol('volley.finish');
const decoder = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------
// connect
// ---------------------------------------------------------------------------------------

/**
 * Opens a connection and resolves with the {@link Peer} once the socket is open.
 *
 * Rejects with {@link DisconnectedError} if the first connection fails and `reconnect` is
 * off; with reconnect on it keeps trying, and rejects with {@link TimeoutError} after
 * `connectTimeoutMs`. Rejects with `TypeError` for a bad URL or option.
 *
 * @param {string | URL} url `ws://` or `wss://` URL, or a path (`/ws`) or other relative URL
 *   resolved against the page's `location` (http becomes ws, https becomes wss).
 * @param {ConnectOptions} [options]
 * @returns {Promise<Peer>}
 */
export function connect(url, options = {}) {
  return new Promise((resolve, reject) => {
    const peer = new Peer(TOKEN, withToken(resolveUrl(url), options.token), options);
    peer[TOKEN](resolve, reject);
  });
}

/**
 * @param {string | URL} url
 * @returns {string}
 */
function resolveUrl(url) {
  const text = String(url);
  /** @type {URL} */
  let parsed;
  try {
    parsed = new URL(text);
  } catch {
    const base = /** @type {{ location?: { href?: string } }} */ (globalThis).location?.href;
    if (!base) {
      throw new TypeError(
        `volley: "${text}" is not an absolute ws:// or wss:// URL, and there is no page location to resolve it against`,
      );
    }
    parsed = new URL(text, base);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TypeError(`volley: "${text}" is not a ws://, wss://, http:// or https:// URL`);
  }
  parsed.hash = '';
  return parsed.href;
}

/**
 * The URL with `token` as its `token` query parameter (browsers cannot set headers on a
 * WebSocket, so a server's authentication reads it from the query).
 * @param {string} url
 * @param {unknown} token
 * @returns {string}
 */
function withToken(url, token) {
  if (token === undefined) return url;
  if (typeof token !== 'string' || token === '') {
    throw new TypeError(`volley: token must be a non-empty string, not ${String(token)}`);
  }
  const parsed = new URL(url);
  parsed.searchParams.set('token', token);
  return parsed.href;
}

/**
 * @param {unknown} value
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
function durationOption(value, name, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new TypeError(`volley: ${name} must be a number of milliseconds >= 0, not ${String(value)}`);
  }
  return value;
}

/**
 * @param {ConnectOptions['reconnect']} value
 * @returns {Required<ReconnectOptions> | null}
 */
function reconnectOption(value) {
  if (value === false) return null;
  if (value === undefined || value === true) return { ...DEFAULTS.reconnect };
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('volley: reconnect must be true, false or { initialDelayMs, maxDelayMs, factor }');
  }
  const d = DEFAULTS.reconnect;
  const r = {
    initialDelayMs: durationOption(value.initialDelayMs, 'reconnect.initialDelayMs', d.initialDelayMs),
    maxDelayMs: durationOption(value.maxDelayMs, 'reconnect.maxDelayMs', d.maxDelayMs),
    factor: durationOption(value.factor, 'reconnect.factor', d.factor),
  };
  if (r.factor < 1) throw new TypeError('volley: reconnect.factor must be >= 1');
  return r;
}

/**
 * @param {ConnectOptions['heartbeat']} value
 * @returns {Required<HeartbeatOptions> | null}
 */
function heartbeatOption(value) {
  if (value === false) return null;
  if (value === undefined || value === true) return { ...DEFAULTS.heartbeat };
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('volley: heartbeat must be true, false or { intervalMs, timeoutMs }');
  }
  const d = DEFAULTS.heartbeat;
  return {
    intervalMs: durationOption(value.intervalMs, 'heartbeat.intervalMs', d.intervalMs),
    timeoutMs: durationOption(value.timeoutMs, 'heartbeat.timeoutMs', d.timeoutMs),
  };
}

/**
 * @param {ConnectOptions['queueWhileDisconnected']} value
 * @returns {number}
 */
function queueOption(value) {
  if (value === undefined || value === false) return 0;
  if (value === true) return DEFAULTS.queueWhileDisconnected;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new TypeError('volley: queueWhileDisconnected must be true, false or a number >= 0');
  }
  return Math.floor(value);
}

/**
 * @param {unknown} value
 * @param {boolean} reconnect Whether reconnect is on (a session cannot resume without it).
 * @returns {boolean}
 */
function resumeOption(value, reconnect) {
  if (value === undefined) return reconnect;
  if (typeof value !== 'boolean') throw new TypeError(`volley: resume must be true or false, not ${String(value)}`);
  return value && reconnect;
}

/**
 * @param {unknown} value
 * @returns {number}
 */
function replayBytesOption(value) {
  if (value === undefined) return DEFAULTS.maxReplayBytes;
  if (typeof value !== 'number' || !(value >= 1)) {
    throw new TypeError(`volley: maxReplayBytes must be a number of bytes >= 1, not ${String(value)}`);
  }
  return value;
}

/**
 * @param {unknown} value
 * @returns {number}
 */
function maxStreamsOption(value) {
  if (value === undefined) return DEFAULTS.maxStreams;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new TypeError(`volley: maxStreams must be a number >= 0, not ${String(value)}`);
  }
  return Math.floor(value);
}

/**
 * @param {number} ms
 * @returns {boolean}
 */
function hasDeadline(ms) {
  return ms > 0 && ms <= MAX_TIMER_MS;
}

// ---------------------------------------------------------------------------------------
// Peer
// ---------------------------------------------------------------------------------------

/**
 * The other end of the connection. Made by {@link connect}; stays valid across reconnects
 * until {@link Peer#close}.
 *
 * Events (all `CustomEvent`s; the data is in `detail`):
 * - `open`: a socket opened (after every reconnect too; on a resumed session, once the
 *   server's hello has come);
 * - `close` `{ code, reason }`: an open socket closed; every pending call has been rejected,
 *   unless a resumable session outlives the socket ({@link Peer#session} is still set then:
 *   calls in flight and running handlers wait for the resume);
 * - `reconnecting` `{ attempt, delayMs }`: the next attempt starts in `delayMs`;
 * - `reconnected` `{ resumed }`: a socket opened again after a drop. `resumed` is true when
 *   it continues the session of the socket before (nothing was lost: rooms joined and
 *   subscriptions made still hold); false when it is a new connection (or a new session,
 *   the old one having expired) and the app must join and subscribe again;
 * - `error` `{ error, method? }`: a socket error, or a notification handler that threw (no one
 *   else would hear of it).
 */
export class Peer extends EventTarget {
  /** @type {string} */
  #url;
  /** @type {WebSocketConstructor} */
  #WebSocket;
  /** @type {Record<string, unknown>} */
  #handlers;
  /** @type {number} */
  #timeoutMs;
  /** @type {number} */
  #connectTimeoutMs;
  /** @type {Required<ReconnectOptions> | null} */
  #reconnect;
  /** @type {Required<HeartbeatOptions> | null} */
  #heartbeat;
  /** @type {number} */
  #queueLimit;
  /** @type {boolean} */
  #resume;
  /** @type {number} */
  #maxReplayBytes;
  /** @type {number} */
  #maxStreams;

  /** @type {Link | null} */
  #link = null;
  /**
   * The resumable session, from the server's hello until it ends (a close frame, `close()`,
   * or the server no longer having it at a resume).
   * @type {Session | null}
   */
  #session = null;
  /**
   * Sockets of a session given up on (heartbeat missed) that could not be dropped without a
   * close frame (browsers cannot); closed once the next socket has its hello.
   * @type {WebSocketLike[]}
   */
  #stale = [];
  #everOpened = false;
  /** Closed for good: by `close()`, a failed first connect, or a drop with reconnect off. */
  #closed = false;
  #closedWhy = '';
  /** Why the last attempt to connect failed. */
  #lastFailure = '';
  /** Attempts since the last open (reported in `reconnecting`). */
  #attempt = 0;
  /** Sockets created so far. */
  #dials = 0;
  /** Backoff level: failed attempts since a connection last stayed up for `maxDelayMs`. */
  #backoff = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #reconnectTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #heartbeatTimer;
  /** @type {{ resolve: (peer: Peer) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> | undefined } | null} */
  #connecting = null;

  #nextId = 1;
  /** @type {Map<number, Pending>} */
  #pending = new Map();
  /** @type {Outgoing[]} */
  #queue = [];
  /** @type {Map<string | symbol, Running>} */
  #running = new Map();
  /**
   * Streams this peer consumes, by {@link routeKey}, with their unsubscribe methods.
   * @type {Map<string, { sub: Subscription<any>, unsubscribe: string }>}
   */
  #streams = new Map();
  /**
   * Route keys of consumed streams that ended on this connection (the most recent
   * {@link ENDED_STREAMS_KEPT}): their late items are dropped.
   * @type {Set<string>}
   */
  #ended = new Set();
  /** Streams this peer serves, by subscription id. @type {Map<number, Served>} */
  #served = new Map();
  #nextStreamId = 1;

  /**
   * Not for direct use: call {@link connect}.
   * @param {symbol} token
   * @param {string} url
   * @param {ConnectOptions} options
   */
  constructor(token, url, options) {
    if (token !== TOKEN) throw new TypeError('volley: use connect(url, options) to make a Peer');
    super();
    if (options === null || typeof options !== 'object') {
      throw new TypeError('volley: options must be an object');
    }
    const WS = options.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
    if (typeof WS !== 'function') {
      throw new TypeError(
        'volley: no WebSocket class: this runtime has no global WebSocket (Node < 22); ' +
          "pass one: connect(url, { WebSocket }) with `import { WebSocket } from 'ws'`",
      );
    }
    const handlers = options.handlers ?? {};
    if (typeof handlers !== 'object' || handlers === null) {
      throw new TypeError('volley: handlers must be an object mapping method names to functions');
    }
    this.#url = url;
    this.#WebSocket = WS;
    this.#handlers = /** @type {Record<string, unknown>} */ (handlers);
    this.#timeoutMs = durationOption(options.timeoutMs, 'timeoutMs', DEFAULTS.timeoutMs);
    this.#connectTimeoutMs = durationOption(options.connectTimeoutMs, 'connectTimeoutMs', DEFAULTS.connectTimeoutMs);
    this.#reconnect = reconnectOption(options.reconnect);
    this.#heartbeat = heartbeatOption(options.heartbeat);
    this.#queueLimit = queueOption(options.queueWhileDisconnected);
    this.#resume = resumeOption(options.resume, this.#reconnect !== null);
    this.#maxReplayBytes = replayBytesOption(options.maxReplayBytes);
    this.#maxStreams = maxStreamsOption(options.maxStreams);
  }

  /**
   * Starts the first connection (used by `connect`).
   * @param {(peer: Peer) => void} resolve
   * @param {(err: Error) => void} reject
   */
  [TOKEN](resolve, reject) {
    const ms = this.#connectTimeoutMs;
    const timer = hasDeadline(ms)
      ? setTimeout(() => {
          const last = this.#link?.lastError || this.#lastFailure;
          const tries = this.#dials;
          this.#abandon(`no connection within ${ms} ms`);
          reject(
            new TimeoutError(
              `volley: could not connect to ${this.#url} within ${ms} ms (${tries} attempt${tries === 1 ? '' : 's'}${last ? `; last: ${last}` : ''})`,
            ),
          );
        }, ms)
      : undefined;
    this.#connecting = { resolve, reject, timer };
    this.#dial();
  }

  /** The WebSocket URL, resolved. */
  get url() {
    return this.#url;
  }

  /** Whether a socket is open now (and, on a resumed session, past the server's hello). */
  get connected() {
    return this.#link !== null && this.#link.ready;
  }

  /**
   * The resumable session, once the server's hello started one: its `id`, and `graceMs`,
   * how long the server keeps it after losing the socket. `null` on a plain connection,
   * before the hello, and once the session ended.
   * @returns {{ id: string, graceMs: number } | null}
   */
  get session() {
    const s = this.#session;
    return s === null ? null : { id: s.id, graceMs: s.graceMs };
  }

  /**
   * Calls `method` on the remote peer and resolves with its result.
   *
   * Rejects with {@link RpcError} when the remote peer answers with an error, and with
   * {@link TimeoutError}, {@link CancelledError} or {@link DisconnectedError} when no answer
   * came: on timeout and on cancel, `rpc.cancel` is sent for the call's id.
   *
   * @param {string} method
   * @param {Params} [params]
   * @param {CallOptions} [options]
   * @returns {Promise<any>}
   */
  async call(method, params, options = {}) {
    checkMethod(method);
    const { signal } = options;
    const timeoutMs = durationOption(options.timeoutMs, 'timeoutMs', this.#timeoutMs);
    if (signal?.aborted) {
      throw new CancelledError(`volley: call "${method}" was cancelled before it was sent`, { cause: signal.reason });
    }
    const id = this.#nextId++;
    const frame = encodeRequest(id, method, params);
    const label = `call "${method}" (id ${id})`;
    const answers = await this.#exchange(frame, [id], label, timeoutMs, signal, true, options.idempotent === true);
    const outcome = toOutcome(answers.get(id));
    if (outcome.error) throw outcome.error;
    return outcome.result;
  }

  /**
   * Sends a notification (no answer). Throws {@link DisconnectedError} when it can be neither
   * sent nor queued, and `TypeError` for `rpc.ack` and `rpc.session` (the session
   * extension's own).
   *
   * @param {string} method
   * @param {Params} [params]
   * @returns {void}
   */
  notify(method, params) {
    checkNotification(method);
    const frame = encodeRequest(undefined, method, params);
    this.#submit({ frame, fail: () => {} }, `notification "${method}"`, true);
  }

  /**
   * Sends several calls and notifications in one frame. Resolves with one entry per item, in
   * the order given: `{ result }` or `{ error }` (an {@link RpcError}) for calls, `undefined`
   * for notifications. Rejects as a whole with {@link TimeoutError}, {@link CancelledError} or
   * {@link DisconnectedError} when some answer never came (`rpc.cancel` is sent for the
   * calls still unanswered on timeout or cancel).
   *
   * @param {readonly BatchItem[]} items
   * @param {CallOptions} [options]
   * @returns {Promise<Array<BatchOutcome | undefined>>}
   */
  async batch(items, options = {}) {
    if (!Array.isArray(items)) throw new TypeError('volley: batch takes an array of { method, params, notify }');
    if (items.length === 0) return [];
    const { signal } = options;
    const timeoutMs = durationOption(options.timeoutMs, 'timeoutMs', this.#timeoutMs);
    for (const item of items) {
      if (item === null || typeof item !== 'object') throw new TypeError('volley: each batch item must be { method, params, notify }');
      if (item.notify) checkNotification(item.method);
      else checkMethod(item.method);
    }
    if (signal?.aborted) {
      throw new CancelledError('volley: batch was cancelled before it was sent', { cause: signal.reason });
    }
    /** @type {Array<number | undefined>} */
    const slots = [];
    const parts = [];
    for (const item of items) {
      const id = item.notify ? undefined : this.#nextId++;
      slots.push(id);
      parts.push(encodeRequest(id, item.method, item.params));
    }
    const frame = `[${parts.join(',')}]`;
    const ids = /** @type {number[]} */ (slots.filter((id) => id !== undefined));
    if (ids.length === 0) {
      this.#submit({ frame, fail: () => {} }, `batch of ${items.length} notifications`, true);
      return items.map(() => undefined);
    }
    const label =
      ids.length === 1
        ? `batch of 1 call (id ${ids[0]})`
        : `batch of ${ids.length} calls (ids ${ids[0]}-${ids[ids.length - 1]})`;
    const answers = await this.#exchange(frame, ids, label, timeoutMs, signal, true, options.idempotent === true);
    return slots.map((id) => (id === undefined ? undefined : toOutcome(answers.get(id))));
  }

  /**
   * Subscribes to a stream the remote peer serves (PROTOCOL.md, "Streams"): sends the
   * subscribe request and resolves, once the answer with the subscription id came, with a
   * {@link Subscription}, an async iterable of the items:
   *
   * ```js
   * const sub = await peer.subscribe('subscribe_load', { interval_ms: 500 });
   * for await (const sample of sub) console.log(sample.cpu);
   * ```
   *
   * Items are the notifications named `item` (default: the method without its
   * `subscribe_` prefix, `subscribe_load` -> `load`; without `subscribe` before a capital,
   * lowered, `subscribeLoad` -> `load`; else the method + `_item`) whose params'
   * `subscription` is the id. Items that arrive right behind the answer are kept. Rejects as
   * {@link Peer#call} does when the subscribe request fails: {@link RpcError} when the
   * remote peer refused (it answered with an error, or with something that is not a
   * subscription id: a string or a number), else {@link TimeoutError},
   * {@link CancelledError} or {@link DisconnectedError}.
   *
   * @template [T=unknown]
   * @param {string} method The subscribe method.
   * @param {Params} [params]
   * @param {SubscribeOptions} [options]
   * @returns {Promise<Subscription<T>>}
   */
  async subscribe(method, params, options = {}) {
    checkMethod(method);
    if (options === null || typeof options !== 'object') throw new TypeError('volley: subscribe options must be an object');
    const item = nameOption(options.item, 'subscribe option item') ?? defaultItem(method);
    const unsubscribe = nameOption(options.unsubscribe, 'subscribe option unsubscribe') ?? `un${method}`;
    const bufferSize = bufferSizeOption(options.bufferSize);
    const { signal } = options;
    const timeoutMs = durationOption(options.timeoutMs, 'timeoutMs', this.#timeoutMs);
    if (signal?.aborted) {
      throw new CancelledError(`volley: subscribe "${method}" was cancelled before it was sent`, { cause: signal.reason });
    }
    const id = this.#nextId++;
    const frame = encodeRequest(id, method, params);
    const label = `subscribe "${method}" (id ${id})`;
    /** @type {Subscription<T> | null} */
    let sub = null;
    // The route opens as the answer is read, so items in the very next frame find it.
    const onAnswer = (/** @type {any} */ message) => {
      const sid = message.result;
      if (Object.hasOwn(message, 'result') && (typeof sid === 'string' || typeof sid === 'number')) {
        sub = this.#openStream(sid, method, item, unsubscribe, bufferSize, signal);
      }
    };
    const answers = await this.#exchange(frame, [id], label, timeoutMs, signal, true, false, onAnswer);
    const outcome = toOutcome(answers.get(id));
    if (outcome.error) throw outcome.error;
    if (sub === null) {
      throw new RpcError(
        ErrorCodes.INTERNAL_ERROR,
        'Internal error',
        `the answer to ${label} is not a subscription id (a string or a number): ${safeJson(outcome.result)}`,
      );
    }
    return sub;
  }

  /**
   * Closes the connection for good: no reconnect, and the end of a resumable session (the
   * server sees the close frame). Pending and queued calls reject with
   * {@link DisconnectedError}; later calls too. Throws `RangeError` (and changes nothing) for a
   * code other than 1000 or 3000-4999, or a reason longer than 123 bytes of UTF-8: what
   * browsers allow.
   *
   * @param {number} [code=1000]
   * @param {string} [reason='']
   * @returns {void}
   */
  close(code = 1000, reason = '') {
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RangeError(`volley: close code must be 1000 or 3000-4999, not ${code}`);
    }
    if (new TextEncoder().encode(reason).length > 123) {
      throw new RangeError('volley: close reason must be at most 123 bytes of UTF-8');
    }
    if (this.#closed) return;
    const link = this.#link;
    if (link && !link.dead) link.ws.close(code, reason);
    this.#abandon('peer.close() was called', link, code, reason);
  }

  // -------------------------------------------------------------------------------------
  // Outgoing
  // -------------------------------------------------------------------------------------

  /**
   * Sends `frame` (or queues it) and resolves with the responses to `ids`, by id.
   *
   * @param {string} frame
   * @param {number[]} ids
   * @param {string} label How errors name this exchange.
   * @param {number} timeoutMs
   * @param {AbortSignal | undefined} signal
   * @param {boolean} queueable
   * @param {boolean} [idempotent] Sent again on a new connection rather than failed.
   * @param {(message: any) => void} [onAnswer] Called with each response as it is read,
   *   before the promise settles (so before any later frame is read).
   * @returns {Promise<Map<number, any>>}
   */
  #exchange(frame, ids, label, timeoutMs, signal, queueable, idempotent = false, onAnswer = undefined) {
    return new Promise((resolve, reject) => {
      /** @type {Map<number, any>} */
      const answers = new Map();
      /** @type {Link | null} */
      let sentOn = null;
      let resends = 0;
      let done = false;
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;

      const reachable = () => sentOn !== null && this.#reaches(sentOn);
      /**
       * @param {Error | null} err
       * @param {boolean} [cancel] Send `rpc.cancel` for the unanswered ids.
       */
      const finish = (err, cancel = false) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const queued = this.#queue.indexOf(entry);
        if (queued >= 0) this.#queue.splice(queued, 1);
        const live = cancel && reachable();
        for (const id of ids) {
          if (answers.has(id)) continue;
          this.#pending.delete(id);
          if (live && sentOn) {
            this.#out({ frame: encodeRequest(undefined, 'rpc.cancel', { id }), owner: sentOn, fail: () => {} });
          }
        }
        if (err) reject(err);
        else resolve(answers);
      };
      const onAbort = () => {
        const where = reachable() ? '; rpc.cancel sent' : sentOn ? '' : ' before it was sent';
        finish(new CancelledError(`volley: ${label} was cancelled${where}`, { cause: signal?.reason }), true);
      };
      /** @type {Pending['lost']} */
      const lost = (why, expired) => {
        if (done) return null;
        if (sentOn === null) return entry; // another id of this batch already sent it back
        if (idempotent && resends < MAX_RESENDS && this.#mayResend()) {
          resends += 1;
          sentOn = null;
          return entry;
        }
        const message = `volley: ${label} got no answer: ${why}`;
        finish(expired ? new SessionExpiredError(message) : new DisconnectedError(message));
        return null;
      };

      /** @type {Outgoing} */
      const entry = {
        frame,
        onSent: (link) => {
          sentOn = link;
          for (const id of ids) {
            this.#pending.set(id, {
              answer: (message) => {
                answers.set(id, message);
                onAnswer?.(message);
                if (answers.size === ids.length) finish(null);
              },
              lost,
            });
          }
        },
        fail: (why) => finish(new DisconnectedError(`volley: ${label} was not sent: ${why}`)),
      };

      if (hasDeadline(timeoutMs)) {
        timer = setTimeout(() => {
          const waiting = sentOn ? '' : ' (it was still waiting for the connection)';
          finish(new TimeoutError(`volley: ${label} got no answer within ${timeoutMs} ms${waiting}`), true);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.#submit(entry, label, queueable);
      } catch (err) {
        finish(/** @type {Error} */ (err));
      }
    });
  }

  /**
   * Writes `entry` now, or queues it, or throws {@link DisconnectedError}.
   * @param {Outgoing} entry
   * @param {string} label
   * @param {boolean} queueable
   */
  #submit(entry, label, queueable) {
    if (this.#closed) throw new DisconnectedError(`volley: ${label} was not sent: ${this.#closedWhy}`);
    const link = this.#link;
    const up = link !== null && link.ready;
    if (up || (queueable && this.#session !== null)) {
      if (this.#queue.length >= SESSION_QUEUE_LIMIT) {
        throw new DisconnectedError(
          `volley: ${label} was not sent: ${SESSION_QUEUE_LIMIT} messages already wait to be written ` +
            '(for the session to resume, or for the server to acknowledge what was sent)',
        );
      }
      this.#out(entry);
      return;
    }
    const limit = this.#queueLimit;
    if (!queueable || limit === 0) {
      throw new DisconnectedError(
        `volley: ${label} was not sent: not connected to ${this.#url}` +
          (queueable ? ' (the queueWhileDisconnected option holds such calls until the connection is back)' : ''),
      );
    }
    if (this.#queue.length >= limit) {
      throw new DisconnectedError(
        `volley: ${label} was not sent: not connected, and the queue is full (${limit} messages already wait for the connection; queueWhileDisconnected: ${limit})`,
      );
    }
    this.#queue.push(entry);
  }

  /**
   * Writes `entry` now if nothing waits before it and the socket can take it, else queues
   * it. A reply, cancel or stream frame whose socket's session (or socket) is gone is
   * dropped (and failed).
   * @param {Outgoing} entry
   */
  #out(entry) {
    if (entry.owner && !this.#reaches(entry.owner)) {
      entry.fail('the connection it concerns is gone');
      return;
    }
    if (this.#queue.length === 0 && this.#writable(entry)) this.#write(entry);
    else this.#queue.push(entry);
  }

  /** Writes queued entries, in order, while the socket can take them. */
  #pump() {
    while (this.#queue.length > 0) {
      const entry = this.#queue[0];
      if (entry.owner && !this.#reaches(entry.owner)) {
        this.#queue.shift();
        entry.fail('the connection it concerns is gone');
        continue;
      }
      if (!this.#writable(entry)) return;
      this.#queue.shift();
      this.#write(entry);
    }
  }

  /**
   * Whether `entry` may be written now: the socket is ready and, on a session, the replay
   * buffer has room for it (an empty one takes a frame of any size).
   * @param {Outgoing} entry
   * @returns {boolean}
   */
  #writable(entry) {
    const link = this.#link;
    if (link === null || !link.ready) return false;
    const s = link.session;
    if (s === null || s.replay.length === 0) return true;
    entry.size ??= utf8Length(entry.frame);
    return s.replayBytes + entry.size <= this.#maxReplayBytes;
  }

  /**
   * Writes `entry` on the ready socket; on a session, numbers it and keeps it until the
   * server acknowledges it.
   * @param {Outgoing} entry
   */
  #write(entry) {
    const link = /** @type {Link} */ (this.#link);
    entry.onSent?.(link);
    const s = link.session;
    if (s !== null) {
      const size = (entry.size ??= utf8Length(entry.frame));
      s.sent += 1;
      s.replay.push({ n: s.sent, frame: entry.frame, size });
      s.replayBytes += size;
    }
    this.#send(link, entry.frame);
  }

  /**
   * Whether what concerns a request read on `link` (its reply, a cancel) can still reach
   * the remote peer: the link's session lives on, or, plain, it is the open socket.
   * @param {Link} link
   * @returns {boolean}
   */
  #reaches(link) {
    if (link.session !== null && link.session === this.#session) return true;
    return link === this.#link && link.ready;
  }

  /**
   * Sends the reply to a frame read on `link`: on a session, numbered and in order with the
   * rest (held while the socket is down); plain, on that socket or not at all.
   * @param {Link} link
   * @param {string} text
   */
  #reply(link, text) {
    if (link.session !== null) this.#out({ frame: text, owner: link, fail: () => {} });
    else this.#send(link, text);
  }

  /**
   * Writes one frame on `link` if it is still the open one.
   * @param {Link} link
   * @param {string} text
   */
  #send(link, text) {
    if (link !== this.#link || !link.open) return;
    try {
      link.ws.send(text);
    } catch (err) {
      this.#lose(link, 1006, '', `sending failed: ${errorText(err)}`);
    }
  }

  /** Whether a call may still be sent again on a later connection. */
  #mayResend() {
    return !this.#closed && this.#reconnect !== null;
  }

  /**
   * The calls waiting for answers will not get them: each fails, with
   * {@link SessionExpiredError} when `expired`, else {@link DisconnectedError}; an idempotent
   * one goes back to the front of the queue instead, to be sent again.
   * @param {string} why
   * @param {boolean} expired
   */
  #failPending(why, expired) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    /** @type {Set<Outgoing>} */
    const again = new Set();
    for (const p of pending) {
      const entry = p.lost(why, expired);
      if (entry) again.add(entry);
    }
    this.#queue.unshift(...again);
  }

  /**
   * Aborts every handler running for the remote peer (their answers are not sent), and
   * every stream this peer serves.
   * @param {Error} reason
   */
  #abortRunning(reason) {
    const running = [...this.#running.values()];
    this.#running.clear();
    for (const r of running) r.controller.abort(reason);
  }

  // -------------------------------------------------------------------------------------
  // Streams this peer consumes
  // -------------------------------------------------------------------------------------

  /**
   * Starts routing the items of subscription `sid` (the subscribe call's answer, just read).
   * @param {string | number} sid
   * @param {string} method
   * @param {string} item
   * @param {string} unsubscribe
   * @param {number} bufferSize
   * @param {AbortSignal | undefined} signal
   * @returns {Subscription<any>}
   */
  #openStream(sid, method, item, unsubscribe, bufferSize, signal) {
    const key = routeKey(item, sid);
    const label = `subscription "${method}" (id ${JSON.stringify(sid)})`;
    this.#streams.get(key)?.sub[FINISH](
      new RpcError(ErrorCodes.INTERNAL_ERROR, 'Internal error', `the producer gave the id of this ${label} to a new subscription`),
    );
    this.#ended.delete(key);
    /** @type {Subscription<any>} */
    const sub = new Subscription(TOKEN, {
      id: sid,
      method,
      item,
      bufferSize,
      signal,
      link: {
        cancel: () => {
          this.#stopRoute(key, sub);
          return this.#unsubscribe(unsubscribe, sid);
        },
      },
    });
    this.#streams.set(key, { sub, unsubscribe });
    return sub;
  }

  /**
   * Stops routing `key` (if it still routes to `sub`), and remembers it so that its late
   * items are dropped.
   * @param {string} key
   * @param {Subscription<any>} sub
   */
  #stopRoute(key, sub) {
    if (this.#streams.get(key)?.sub !== sub) return;
    this.#streams.delete(key);
    this.#ended.add(key);
    if (this.#ended.size > ENDED_STREAMS_KEPT) {
      this.#ended.delete(/** @type {string} */ (this.#ended.values().next().value));
    }
  }

  /**
   * Sends the unsubscribe method for subscription `sid`; resolves once it is answered, or
   * failed: its outcome does not matter.
   * @param {string} method
   * @param {string | number} sid
   * @returns {Promise<void>}
   */
  #unsubscribe(method, sid) {
    return this.call(method, [sid]).then(
      () => {},
      () => {},
    );
  }

  /**
   * Takes a notification if it is an item (or the end) of a stream this peer consumes, or
   * a late item of one that ended; `false` leaves it to the handlers.
   * @param {string} method
   * @param {unknown} params
   * @returns {boolean}
   */
  #route(method, params) {
    if (this.#streams.size === 0 && this.#ended.size === 0) return false;
    const p = streamParams(params);
    if (p === null) return false;
    const key = routeKey(method, p.id);
    const route = this.#streams.get(key);
    if (route === undefined) return this.#ended.has(key);
    const { sub } = route;
    if (Object.hasOwn(p.params, 'result')) {
      if (sub[DELIVER](p.params.result)) return true;
      // The code is too far behind: end the stream (after what is buffered) and cancel it.
      this.#stopRoute(key, sub);
      sub[FINISH](
        new LaggedError(
          `volley: subscription "${sub.method}" (id ${JSON.stringify(sub.id)}) fell behind: ` +
            'its buffer (bufferSize) was full when another item came, so it was cancelled',
        ),
      );
      this.#unsubscribe(route.unsubscribe, sub.id);
      return true;
    }
    if (Object.hasOwn(p.params, 'error')) {
      this.#stopRoute(key, sub);
      const e = p.params.error;
      sub[FINISH](e === null ? null : /** @type {RpcError} */ (toOutcome({ error: e }).error));
      return true;
    }
    return true; // neither an item nor an end: nothing to deliver
  }

  /**
   * Ends every consumed stream with {@link DisconnectedError}: the connection (or session)
   * they came on is gone.
   * @param {string} why
   */
  #endStreams(why) {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#ended.clear();
    for (const { sub } of streams) {
      sub[FINISH](new DisconnectedError(`volley: subscription "${sub.method}" (id ${JSON.stringify(sub.id)}) ended: ${why}`));
    }
  }

  // -------------------------------------------------------------------------------------
  // Connection lifecycle
  // -------------------------------------------------------------------------------------

  /** Opens a new socket. */
  #dial() {
    if (this.#closed) return;
    this.#dials += 1;
    const session = this.#session;
    /** @type {Link['ask']} */
    const ask = !this.#resume ? null : session === null ? 'new' : 'resume';
    if (session !== null) {
      // The count in the query acknowledges what this session has received.
      clearTimeout(session.ackTimer);
      session.ackTimer = undefined;
      session.ackSent = session.received;
    }
    /** @type {WebSocketLike} */
    let ws;
    try {
      ws = new this.#WebSocket(this.#dialUrl(ask));
    } catch (err) {
      const why = `the WebSocket could not be created: ${errorText(err)}`;
      if (!this.#everOpened || this.#reconnect === null) {
        // A URL the WebSocket class refuses at once will not get better by retrying.
        const c = this.#connecting;
        this.#abandon(why);
        if (c) c.reject(new DisconnectedError(`volley: could not connect to ${this.#url}: ${why}`, { cause: err }));
        return;
      }
      this.#lastFailure = why;
      this.#emit('error', { error: err });
      this.#retry(0);
      return;
    }
    /** @type {Link} */
    const link = {
      ws,
      open: false,
      ready: false,
      dead: false,
      ask,
      awaitingHello: false,
      helloTimer: undefined,
      session: null,
      openedAt: 0,
      attemptTimer: undefined,
      lastError: '',
      backlog: null,
      backlogCount: 0,
    };
    this.#link = link;
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // Blob frames are read asynchronously below.
    }
    ws.addEventListener('open', () => this.#onOpen(link));
    ws.addEventListener('message', (/** @type {{ data: unknown }} */ event) => this.#onMessage(link, event.data));
    ws.addEventListener('error', (/** @type {any} */ event) => {
      if (link.dead) return;
      const error = event?.error ?? new Error(event?.message || `WebSocket error on ${this.#url}`);
      link.lastError = errorText(error);
      this.#emit('error', { error });
    });
    ws.addEventListener('close', (/** @type {{ code?: number, reason?: string }} */ event) => {
      const code = event?.code ?? 1006;
      const reason = event?.reason ?? '';
      const why = link.open
        ? `the connection closed (${describeClose(code, reason)})`
        : `the connection could not be opened (${link.lastError || describeClose(code, reason)})`;
      this.#lose(link, code, reason, why);
    });
    const ms = this.#connectTimeoutMs;
    if (hasDeadline(ms)) {
      link.attemptTimer = setTimeout(() => {
        if (link.open || link.dead) return;
        try {
          ws.close();
        } catch {
          // Nothing more to do with a socket that will not open.
        }
        this.#lose(link, 1006, '', `the connection was not open within ${ms} ms`);
      }, ms);
    }
  }

  /**
   * The URL of a dial: the connection's, plus the session query parameters when `ask`ing
   * for one (PROTOCOL.md, "Session resumption"). The URL's own query stays as it is.
   * @param {Link['ask']} ask
   * @returns {string}
   */
  #dialUrl(ask) {
    if (ask === null) return this.#url;
    const s = this.#session;
    const params =
      ask === 'resume' && s !== null
        ? `volley_session=${encodeURIComponent(s.id)}&volley_resume_token=${encodeURIComponent(s.token)}&volley_received=${s.received}`
        : 'volley_session=new';
    const url = new URL(this.#url);
    url.search = url.search.length > 1 ? `${url.search}&${params}` : `?${params}`;
    return url.href;
  }

  /** @param {Link} link */
  #onOpen(link) {
    if (link.dead || link !== this.#link) return;
    clearTimeout(link.attemptTimer);
    link.open = true;
    link.openedAt = Date.now();
    if (link.ask !== null) {
      link.awaitingHello = true;
      link.helloTimer = setTimeout(() => this.#noHello(link), HELLO_WAIT_MS);
    }
    // A resume writes nothing before the hello says what the server has.
    if (link.ask === 'resume') return;
    if (link.ask === 'new') link.session = newSession();
    this.#ready(link, false);
  }

  /**
   * The link may carry frames: write what waits, settle `connect`, tell the listeners.
   * @param {Link} link
   * @param {boolean} resumed It continues the session of the socket before.
   */
  #ready(link, resumed) {
    if (link.dead || link !== this.#link) return;
    link.ready = true;
    const reconnected = this.#everOpened;
    this.#everOpened = true;
    this.#attempt = 0;
    this.#startHeartbeat(link);
    this.#pump();
    const c = this.#connecting;
    if (c) {
      this.#connecting = null;
      clearTimeout(c.timer);
      c.resolve(this);
    }
    this.#emit('open', {});
    if (reconnected && link.ready) this.#emit('reconnected', { resumed });
  }

  /**
   * The server's `rpc.session` hello, the first frame on a socket that asked for a session.
   * @param {Link} link
   * @param {Hello} hello
   */
  #onHello(link, hello) {
    this.#helloSeen(link);
    const old = this.#session;
    if (link.ask === 'new') {
      const s = /** @type {Session} */ (link.session);
      s.id = hello.id;
      s.token = hello.token;
      s.graceMs = hello.graceMs;
      this.#session = s;
      return;
    }
    if (old !== null && hello.resumed && hello.id === old.id) {
      link.session = old;
      this.#trim(old, hello.received);
      for (const kept of old.replay) this.#send(link, kept.frame);
      this.#ready(link, true);
      return;
    }
    this.#expire('the session expired (the server no longer had it when the client came back)');
    const s = newSession(hello);
    this.#session = s;
    link.session = s;
    this.#ready(link, false);
  }

  /**
   * The socket asked for a session, and its first frame is something else (or none came
   * within {@link HELLO_WAIT_MS}): the server does not offer resumption; the socket is plain.
   * @param {Link} link
   */
  #noHello(link) {
    if (link.dead || !link.awaitingHello) return;
    this.#helloSeen(link);
    if (link.ask === 'new') {
      link.session = null;
      this.#pump();
      return;
    }
    this.#expire('the session expired (the server did not resume it: it no longer offers resumption)');
    this.#ready(link, false);
  }

  /** @param {Link} link */
  #helloSeen(link) {
    link.awaitingHello = false;
    clearTimeout(link.helloTimer);
    this.#closeStale();
  }

  /**
   * The server did not resume the session: what was written on it may or may not have run.
   * Calls waiting for answers fail with {@link SessionExpiredError} (idempotent ones are
   * sent again); calls never written stay queued for the new connection; the handlers it
   * started are aborted and their answers dropped; the streams it carried end.
   * @param {string} why
   */
  #expire(why) {
    this.#session = null;
    this.#failPending(why, true);
    this.#abortRunning(new SessionExpiredError(`volley: ${why}`));
    this.#endStreams(why);
  }

  /**
   * The link is gone (socket closed, heartbeat missed, attempt timed out, or `close()`):
   * fail what waits on it, then reconnect or stop. A resumable session lost without a close
   * frame keeps what waits on it for the resume.
   * @param {Link} link
   * @param {number} code
   * @param {string} reason
   * @param {string} why Why calls got no answer, for error messages.
   * @param {boolean} [closeFrame] Whether a close frame ended the socket (by default: the
   *   code is not 1006, the code of a connection lost without one).
   */
  #lose(link, code, reason, why, closeFrame = code !== 1006) {
    if (link.dead) return;
    link.dead = true;
    clearTimeout(link.attemptTimer);
    clearTimeout(link.helloTimer);
    const wasOpen = link.open;
    const wasReady = link.ready;
    link.open = false;
    link.ready = false;
    if (this.#link === link) this.#link = null;
    const s = this.#session;
    const ofSession = s !== null && (link.session === s || link.ask === 'resume');
    const resuming = ofSession && !(wasOpen && closeFrame) && !this.#closed && this.#reconnect !== null;
    if (s !== null) {
      clearTimeout(s.ackTimer);
      s.ackTimer = undefined;
    }
    if (wasReady) clearTimeout(this.#heartbeatTimer);
    if (ofSession && !resuming) this.#session = null;
    if ((wasOpen || ofSession) && !resuming) {
      this.#failPending(why, false);
      this.#abortRunning(new DisconnectedError(`volley: the connection to the caller is gone: ${why}`));
      this.#endStreams(why);
    }
    if (wasReady) {
      this.#emit('close', { code, reason });
    } else {
      this.#lastFailure = why;
    }
    if (this.#closed) return;
    if (this.#reconnect === null) {
      const c = this.#connecting;
      this.#abandon(wasOpen ? `${why}, and reconnect is off` : why);
      if (c) c.reject(new DisconnectedError(`volley: could not connect to ${this.#url}: ${why}`));
      return;
    }
    this.#retry(wasOpen ? Date.now() - link.openedAt : 0);
  }

  /**
   * Schedules the next attempt, with exponential backoff and full jitter.
   * @param {number} uptimeMs How long the connection that just went had been open.
   */
  #retry(uptimeMs) {
    const r = /** @type {Required<ReconnectOptions>} */ (this.#reconnect);
    if (uptimeMs >= r.maxDelayMs) this.#backoff = 0;
    this.#attempt += 1;
    this.#backoff += 1;
    const ceiling = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** (this.#backoff - 1));
    const delayMs = Math.floor(Math.random() * ceiling);
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#dial();
    }, delayMs);
    this.#emit('reconnecting', { attempt: this.#attempt, delayMs });
  }

  /**
   * Stops for good: no more reconnects, the queue fails, a pending `connect` is settled by
   * the caller of this method (or rejected here when `close()` is called).
   * @param {string} why
   * @param {Link | null} [link] The open link to drop too.
   * @param {number} [code]
   * @param {string} [reason]
   */
  #abandon(why, link = this.#link, code = 1000, reason = '') {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedWhy = why === 'peer.close() was called' ? 'the peer is closed (peer.close() was called)' : why;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    clearTimeout(this.#heartbeatTimer);
    const c = this.#connecting;
    this.#connecting = null;
    if (c) clearTimeout(c.timer);
    if (link && !link.dead) {
      if (!link.open) {
        try {
          link.ws.close();
        } catch {
          // The socket is abandoned either way.
        }
      }
      this.#lose(link, code, reason, why, true);
    }
    // A session between sockets ends here too.
    const s = this.#session;
    this.#session = null;
    if (s !== null) clearTimeout(s.ackTimer);
    this.#failPending(this.#closedWhy, false);
    this.#abortRunning(new DisconnectedError(`volley: the connection to the caller is gone: ${this.#closedWhy}`));
    this.#endStreams(this.#closedWhy);
    this.#closeStale();
    const queued = this.#queue;
    this.#queue = [];
    for (const entry of queued) entry.fail(this.#closedWhy);
    if (c && why === 'peer.close() was called') {
      c.reject(new DisconnectedError(`volley: could not connect to ${this.#url}: ${why}`));
    }
  }

  /** @param {Link} link */
  #startHeartbeat(link) {
    const hb = this.#heartbeat;
    if (hb === null) return;
    const alive = () => link === this.#link && link.ready;
    const beat = () => {
      if (!alive()) return;
      const id = this.#nextId++;
      const frame = encodeRequest(id, 'rpc.ping', undefined);
      this.#exchange(frame, [id], `heartbeat rpc.ping (id ${id})`, hb.timeoutMs, undefined, false).then(
        // Any answer, even an error from a peer without rpc.ping, shows the link is alive.
        () => {
          if (alive()) this.#heartbeatTimer = setTimeout(beat, hb.intervalMs);
        },
        (err) => {
          if (!(err instanceof TimeoutError) || !alive()) return;
          const silent = `no answer to the heartbeat rpc.ping within ${hb.timeoutMs} ms`;
          if (link.session !== null && link.session === this.#session) {
            // A close frame would end the session: drop the socket without one, and resume.
            this.#drop(link.ws);
            this.#lose(link, HEARTBEAT_CLOSE_CODE, 'heartbeat timeout', `${silent}, so the socket was dropped`, false);
            return;
          }
          try {
            link.ws.close(HEARTBEAT_CLOSE_CODE, 'heartbeat timeout');
          } catch {
            // The link is dropped below regardless.
          }
          this.#lose(link, HEARTBEAT_CLOSE_CODE, 'heartbeat timeout', `${silent}, so the connection was closed`);
        },
      );
    };
    clearTimeout(this.#heartbeatTimer);
    if (hasDeadline(hb.intervalMs)) this.#heartbeatTimer = setTimeout(beat, hb.intervalMs);
  }

  /**
   * Gives up on a socket without a close frame, where the WebSocket can (`terminate`);
   * otherwise leaves it until the next socket has its hello (the server drops the old
   * socket when a resume comes), then closes it.
   * @param {WebSocketLike} ws
   */
  #drop(ws) {
    if (typeof ws.terminate === 'function') {
      try {
        ws.terminate();
        return;
      } catch {
        // Closed later, like a browser's.
      }
    }
    this.#stale.push(ws);
  }

  /** Closes the sockets {@link Peer#drop} left open. */
  #closeStale() {
    const stale = this.#stale;
    this.#stale = [];
    for (const ws of stale) {
      try {
        ws.close(HEARTBEAT_CLOSE_CODE, 'heartbeat timeout');
      } catch {
        // Gone already.
      }
    }
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // -------------------------------------------------------------------------------------
  // Incoming
  // -------------------------------------------------------------------------------------

  /**
   * Keeps frames in order even when one arrives as a Blob (read asynchronously).
   * @param {Link} link
   * @param {unknown} data
   */
  #onMessage(link, data) {
    if (link.dead) return;
    const blob = typeof Blob !== 'undefined' && data instanceof Blob;
    if (!blob && link.backlog === null) {
      this.#onFrame(link, data);
      return;
    }
    link.backlogCount += 1;
    link.backlog = (link.backlog ?? Promise.resolve())
      .then(async () => {
        const bytes = blob ? new Uint8Array(await /** @type {Blob} */ (data).arrayBuffer()) : data;
        this.#onFrame(link, bytes);
      })
      .catch((err) => this.#emit('error', { error: err }))
      .finally(() => {
        link.backlogCount -= 1;
        if (link.backlogCount === 0) link.backlog = null;
      });
  }

  /**
   * @param {Link} link
   * @param {unknown} data A string, or bytes to read as UTF-8.
   */
  #onFrame(link, data) {
    if (link !== this.#link || !link.open) return;
    /** @type {string | null} */
    let text = null;
    let problem = '';
    try {
      if (typeof data === 'string') text = data;
      else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) text = decoder.decode(/** @type {ArrayBuffer} */ (data));
      else text = String(data);
    } catch (err) {
      problem = `frame is not UTF-8: ${errorText(err)}`;
    }
    /** @type {unknown} */
    let message;
    if (text !== null) {
      try {
        message = JSON.parse(text);
      } catch (err) {
        text = null;
        problem = errorText(err);
      }
    }
    if (link.awaitingHello) {
      const hello = text === null ? null : helloOf(message);
      if (hello) {
        this.#onHello(link, hello);
        return;
      }
      this.#noHello(link);
      if (link !== this.#link || !link.ready) return;
    }
    if (text !== null && isControl(message)) {
      if (link.session !== null) this.#onControl(link.session, /** @type {any} */ (message));
      return;
    }
    if (link.session !== null) this.#counted(link.session);
    if (text === null) {
      this.#reply(link, failure('null', ErrorCodes.PARSE_ERROR, 'Parse error', problem));
      return;
    }
    const source = text;
    /**
     * Streams whose subscribe requests this frame holds: they start once the frame's reply,
     * which gives their ids, is on its way.
     * @type {Array<(link: Link) => void>}
     */
    const started = [];
    const replied = (/** @type {string} */ reply) => {
      this.#reply(link, reply);
      for (const start of started) start(link);
    };
    if (!Array.isArray(message)) {
      const out = this.#onItem(message, () => /** @type {string | undefined} */ (idSources(source)), started);
      if (typeof out === 'string') this.#reply(link, out);
      else if (out) out.then(replied);
      return;
    }
    if (message.length === 0) {
      this.#reply(link, failure('null', ErrorCodes.INVALID_REQUEST, 'Invalid Request', 'empty batch'));
      return;
    }
    /** @type {Array<string | undefined> | undefined} */
    let sources;
    const sourceOf = (/** @type {number} */ i) => {
      sources ??= /** @type {Array<string | undefined>} */ (idSources(source));
      return sources[i];
    };
    /** @type {Array<string | Promise<string>>} */
    const replies = [];
    message.forEach((item, i) => {
      const out = this.#onItem(item, () => sourceOf(i), started);
      if (out !== undefined) replies.push(out);
    });
    if (replies.length === 0) return;
    Promise.all(replies).then((all) => replied(`[${all.join(',')}]`));
  }

  // -------------------------------------------------------------------------------------
  // Session bookkeeping: counting, acknowledgements, the replay buffer
  // -------------------------------------------------------------------------------------

  /**
   * A frame of the conversation arrived on session `s`: count it, and acknowledge at once
   * when {@link ACK_EVERY} are unacknowledged, else within {@link ACK_DELAY_MS}.
   * @param {Session} s
   */
  #counted(s) {
    s.received += 1;
    if (s.received - s.ackSent >= ACK_EVERY) this.#ack(s);
    else s.ackTimer ??= setTimeout(() => this.#ack(s), ACK_DELAY_MS);
  }

  /**
   * Sends `rpc.ack` with the count received on `s`, when it is owed and `s` has a socket.
   * @param {Session} s
   */
  #ack(s) {
    clearTimeout(s.ackTimer);
    s.ackTimer = undefined;
    const link = this.#link;
    if (s !== this.#session || link === null || link.session !== s || !link.ready) return;
    if (s.received === s.ackSent) return;
    s.ackSent = s.received;
    this.#send(link, encodeRequest(undefined, 'rpc.ack', { received: s.received }));
  }

  /**
   * The extension's own notifications, read on session `s`: `rpc.ack` frees the replay
   * buffer; a late `rpc.session` means nothing.
   * @param {Session} s
   * @param {{ method: string, params?: any }} message
   */
  #onControl(s, message) {
    if (message.method !== 'rpc.ack' || s !== this.#session) return;
    const received = message.params?.received;
    if (!isCount(received)) return;
    this.#trim(s, received);
    this.#pump();
  }

  /**
   * Drops from the replay buffer every frame the server has (`received` counts from the first).
   * @param {Session} s
   * @param {number} received
   */
  #trim(s, received) {
    while (s.replay.length > 0 && /** @type {{ n: number }} */ (s.replay[0]).n <= received) {
      s.replayBytes -= /** @type {{ size: number }} */ (s.replay.shift()).size;
    }
  }

  /**
   * Handles one message; returns the reply frame (or a promise of it) for requests and
   * invalid messages, nothing for responses and notifications.
   * @param {unknown} message
   * @param {() => string | undefined} rawId The id's source text, byte for byte.
   * @param {Array<(link: Link) => void>} started Where a stream's subscribe request leaves
   *   what starts the stream once the reply is sent.
   * @returns {string | Promise<string> | undefined}
   */
  #onItem(message, rawId, started) {
    const c = classify(message);
    const m = /** @type {any} */ (message);
    switch (c.kind) {
      case 'response':
        this.#onResponse(m);
        return undefined;
      case 'notification':
        this.#onNotification(m.method, m.params);
        return undefined;
      case 'request':
        return this.#onRequest(m.method, m.params, m.id, idText(m.id, rawId), started);
      default:
        return failure(
          c.hasId ? idText(m.id, rawId) : 'null',
          ErrorCodes.INVALID_REQUEST,
          'Invalid Request',
          c.detail,
        );
    }
  }

  /** @param {{ id: unknown }} message */
  #onResponse(message) {
    if (typeof message.id !== 'number') return;
    const p = this.#pending.get(message.id);
    if (!p) return; // an answer to no pending call (late, or not ours): dropped
    this.#pending.delete(message.id);
    p.answer(message);
  }

  /**
   * The handler serving `method`, as given (`this` must be the handlers object).
   * @param {string} method
   * @returns {Function | undefined}
   */
  #lookup(method) {
    if (method === 'constructor' || method === '__proto__') return undefined;
    const fn = this.#handlers[method];
    if (typeof fn !== 'function') return undefined;
    if (fn === /** @type {any} */ (Object.prototype)[method]) return undefined;
    return fn;
  }

  /**
   * @param {string} method
   * @returns {((params: unknown, context: HandlerContext) => unknown) | undefined}
   */
  #handler(method) {
    const handlers = this.#handlers;
    const fn = this.#lookup(method);
    if (!fn) return undefined;
    return (params, context) => fn.call(handlers, params, context);
  }

  /**
   * @param {string} method
   * @param {unknown} params
   * @param {unknown} id
   * @param {string} idSource
   * @param {Array<(link: Link) => void>} started
   * @returns {string | Promise<string>}
   */
  #onRequest(method, params, id, idSource, started) {
    if (method === 'rpc.ping') return success(idSource, 'pong');
    const raw = this.#lookup(method);
    const spec = streamSpec(raw);
    if (spec) return this.#startStream(method, spec, params, id, idSource, started);
    const fn = this.#handler(method);
    if (!fn) {
      if (method === 'rpc.discover') return success(idSource, this.#discover());
      if (this.#unsubscribeMethods().has(method)) return this.#onUnsubscribe(method, params, idSource);
      return failure(idSource, ErrorCodes.METHOD_NOT_FOUND, 'Method not found', `no method "${method}" on this peer`);
    }
    const key = idKey(id);
    return new Promise((resolve) => {
      const run = this.#track(key, idSource, resolve);
      const { controller } = run;
      new Promise((r) => r(fn(params, { signal: controller.signal, peer: this })))
        .then(
          (result) => resolve(success(idSource, result)),
          (err) => resolve(failureFrom(idSource, err)),
        )
        .finally(() => {
          if (this.#running.get(key) === run) this.#running.delete(key);
        });
    });
  }

  /**
   * @param {string} method
   * @param {unknown} params
   */
  #onNotification(method, params) {
    if (method === 'rpc.cancel') {
      this.#onCancel(params);
      return;
    }
    if (method === 'rpc.ack' || method === 'rpc.session') return; // the extension's own, even in a batch
    if (this.#route(method, params)) return; // an item of a stream this peer consumes
    if (streamSpec(this.#lookup(method))) return; // a stream cannot start without an id to answer
    const fn = this.#handler(method);
    if (!fn) return; // notifications are never answered, not even "Method not found"
    const key = Symbol(method);
    const run = { controller: new AbortController() };
    this.#running.set(key, run);
    new Promise((r) => r(fn(params, { signal: run.controller.signal, peer: this })))
      .catch((error) => this.#emit('error', { error, method }))
      .finally(() => this.#running.delete(key));
  }

  /** @param {unknown} params `{ id }` or `[id]` */
  #onCancel(params) {
    /** @type {unknown} */
    let id;
    if (Array.isArray(params)) id = params[0];
    else if (params !== null && typeof params === 'object' && Object.hasOwn(params, 'id')) id = /** @type {any} */ (params).id;
    else return;
    const key = idKey(id);
    const run = this.#running.get(key);
    if (!run) return;
    this.#running.delete(key);
    run.controller.abort(new CancelledError('volley: the caller cancelled this request (rpc.cancel)'));
    run.cancel?.();
  }

  // -------------------------------------------------------------------------------------
  // Streams this peer serves
  // -------------------------------------------------------------------------------------

  /**
   * A subscribe request for a handler made with {@link stream}: starts the producer and
   * answers with a new subscription id (or the producer's error); the items follow once
   * that answer is sent (`started`).
   * @param {string} method
   * @param {StreamSpec} spec
   * @param {unknown} params
   * @param {unknown} id
   * @param {string} idSource
   * @param {Array<(link: Link) => void>} started
   * @returns {string | Promise<string>}
   */
  #startStream(method, spec, params, id, idSource, started) {
    if (this.#served.size >= this.#maxStreams) {
      return failure(
        idSource,
        ErrorCodes.TOO_MANY_STREAMS,
        'Too many streams',
        `this peer already serves ${this.#served.size} streams on this connection (maxStreams: ${this.#maxStreams})`,
      );
    }
    const fn = /** @type {Function} */ (this.#lookup(method));
    const handlers = this.#handlers;
    const key = idKey(id);
    return new Promise((resolve) => {
      const run = this.#track(key, idSource, resolve);
      const { controller } = run;
      new Promise((r) => r(fn.call(handlers, params, { signal: controller.signal, peer: this })))
        .then((source) => {
          const { iterator, sync } = iteratorOf(source);
          if (controller.signal.aborted) {
            // Cancelled (rpc.cancel: answered already), or the connection went (the answer
            // goes nowhere) while the producer started.
            closeIterator(iterator);
            resolve(failure(idSource, ErrorCodes.REQUEST_CANCELLED, 'Request cancelled', 'the stream was stopped before it started'));
            return;
          }
          /** @type {Served} */
          const served = {
            id: this.#nextStreamId++,
            item: spec.item ?? defaultItem(method),
            unsubscribe: spec.unsubscribe ?? `un${method}`,
            controller,
            iterator,
            sync,
            key: Symbol(method),
          };
          this.#served.set(served.id, served);
          this.#running.set(served.key, { controller });
          started.push((link) => this.#pumpStream(served, link));
          resolve(success(idSource, served.id));
        })
        .catch((err) => resolve(failureFrom(idSource, err)))
        .finally(() => {
          if (this.#running.get(key) === run) this.#running.delete(key);
        });
    });
  }

  /**
   * Sends a served stream's items, then its end, on `link` (whose reply gave its id),
   * pulling the next item only once the one before is written and the socket is not
   * holding too much ({@link STREAM_HIGH_WATER_BYTES}). Stops when its signal aborts.
   * @param {Served} s
   * @param {Link} link
   */
  async #pumpStream(s, link) {
    const { signal } = s.controller;
    const stopped = new Promise((resolve) => {
      if (signal.aborted) resolve(undefined);
      else signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const idText = JSON.stringify(s.id);
    const head = `{"jsonrpc":"2.0","method":${JSON.stringify(s.item)},"params":{"subscription":${idText},`;
    let sent = 0;
    try {
      for (;;) {
        if (signal.aborted) return;
        const step = /** @type {IteratorResult<unknown> | undefined} */ (await Promise.race([s.iterator.next(), stopped]));
        if (step === undefined || signal.aborted) return;
        if (step.done) {
          this.#out({ frame: `${head}"error":null}}`, owner: link, fail: () => {} });
          return;
        }
        const value = s.sync ? await step.value : step.value;
        if (signal.aborted) return;
        /** @type {string | undefined} */
        let body;
        try {
          body = JSON.stringify(value === undefined ? null : value);
        } catch (err) {
          throw new RpcError(ErrorCodes.INTERNAL_ERROR, 'Internal error', `an item could not be encoded as JSON: ${errorText(err)}`);
        }
        await this.#sendItem(`${head}"result":${body ?? 'null'}}}`, link, stopped);
        await this.#roomToSend(signal, ++sent % STREAM_ITEMS_PER_TURN === 0);
      }
    } catch (err) {
      if (!signal.aborted) this.#out({ frame: `${head}"error":${errorJson(err)}}}`, owner: link, fail: () => {} });
      // The producer threw (it is done), or an item could not be sent (it is not): end it.
      closeIterator(s.iterator);
    } finally {
      this.#served.delete(s.id);
      this.#running.delete(s.key);
      if (signal.aborted) closeIterator(s.iterator);
    }
  }

  /**
   * Sends one item of a served stream; resolves once it is written (or dropped, or the
   * stream stopped).
   * @param {string} frame
   * @param {Link} link
   * @param {Promise<unknown>} stopped
   * @returns {Promise<unknown>}
   */
  #sendItem(frame, link, stopped) {
    /** @type {Promise<void>} */
    const written = new Promise((resolve) => this.#out({ frame, owner: link, onSent: () => resolve(), fail: () => resolve() }));
    return Promise.race([written, stopped]);
  }

  /**
   * Waits while the socket holds more than {@link STREAM_HIGH_WATER_BYTES} not yet sent
   * (browsers have no drain event: it looks every {@link STREAM_DRAIN_POLL_MS}).
   * @param {AbortSignal} signal
   * @param {boolean} turn Let the event loop run first (see {@link STREAM_ITEMS_PER_TURN}).
   */
  async #roomToSend(signal, turn) {
    if (turn) await new Promise((resolve) => setTimeout(resolve, 0));
    for (;;) {
      const ws = this.#link?.ws;
      const buffered = /** @type {{ bufferedAmount?: number } | undefined} */ (ws)?.bufferedAmount;
      if (signal.aborted || !(typeof buffered === 'number' && buffered > STREAM_HIGH_WATER_BYTES)) return;
      await new Promise((resolve) => setTimeout(resolve, STREAM_DRAIN_POLL_MS));
    }
  }

  /**
   * Tracks an incoming request under `key` for `rpc.cancel`: its AbortController, and a
   * cancel that answers -32800 through `resolve`.
   * @param {string} key
   * @param {string} idSource
   * @param {(frame: string) => void} resolve
   * @returns {Running}
   */
  #track(key, idSource, resolve) {
    /** @type {Running} */
    const run = {
      controller: new AbortController(),
      cancel: () => resolve(failure(idSource, ErrorCodes.REQUEST_CANCELLED, 'Request cancelled', 'the caller sent rpc.cancel')),
    };
    this.#running.set(key, run);
    return run;
  }

  /**
   * The unsubscribe method of a stream this peer serves: `[id]` (or `{ subscription: id }`)
   * stops that stream and answers `true`; `false` when no such stream runs.
   * @param {string} method
   * @param {unknown} params
   * @param {string} idSource
   * @returns {string}
   */
  #onUnsubscribe(method, params, idSource) {
    /** @type {unknown} */
    let sid;
    if (Array.isArray(params) && params.length === 1) sid = params[0];
    else if (params !== null && typeof params === 'object' && !Array.isArray(params) && Object.keys(params).length === 1 && Object.hasOwn(params, 'subscription')) {
      sid = /** @type {any} */ (params).subscription;
    } else {
      return failure(idSource, ErrorCodes.INVALID_PARAMS, 'Invalid params', `${method} takes the subscription id: [id]`);
    }
    const s = typeof sid === 'number' ? this.#served.get(sid) : undefined;
    if (s === undefined || s.unsubscribe !== method || s.controller.signal.aborted) return success(idSource, false);
    s.controller.abort(new CancelledError('volley: the consumer unsubscribed'));
    return success(idSource, true);
  }

  /**
   * The names of the handlers, own and inherited.
   * @returns {Set<string>}
   */
  #handlerNames() {
    /** @type {Set<string>} */
    const names = new Set();
    for (let o = this.#handlers; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) {
        if (this.#lookup(name)) names.add(name);
      }
    }
    return names;
  }

  /**
   * The unsubscribe methods of the streams this peer serves.
   * @returns {Set<string>}
   */
  #unsubscribeMethods() {
    /** @type {Set<string>} */
    const names = new Set();
    for (const name of this.#handlerNames()) {
      const spec = streamSpec(this.#lookup(name));
      if (spec) names.add(spec.unsubscribe ?? `un${name}`);
    }
    return names;
  }

  /**
   * The OpenRPC document of what this peer serves (names only: JavaScript has no schemas),
   * the unsubscribe methods of its streams included.
   */
  #discover() {
    const names = new Set([...this.#handlerNames(), ...this.#unsubscribeMethods()]);
    return {
      openrpc: '1.3.2',
      info: { title: 'volley.js peer', version: VERSION },
      methods: [...names].sort().map((name) => ({
        name,
        paramStructure: 'either',
        params: [],
        result: { name: 'result', schema: {} },
        'x-implemented-by': ['client'],
      })),
    };
  }
}

// ---------------------------------------------------------------------------------------
// Streams (PROTOCOL.md, "Streams")
// ---------------------------------------------------------------------------------------

/**
 * Makes a handler that serves a stream. Put it in `handlers` under the subscribe method's
 * name:
 *
 * ```js
 * handlers: {
 *   subscribe_ticks: stream(async function* ({ every }, { signal }) {
 *     for (let n = 1; !signal.aborted; n++) {
 *       await new Promise((r) => setTimeout(r, every));
 *       yield n;
 *     }
 *   }),
 * }
 * ```
 *
 * A subscribe request from the remote peer calls `produce(params, { signal, peer })`; what it
 * returns (or resolves with) must be an async iterable or an iterable. The request is
 * answered with a fresh subscription id (a small integer, never reused by this peer); each
 * item goes out as `{"method": item, "params": {"subscription": id, "result": item}}`, the
 * next one pulled only once the one before was written; the end as
 * `{"subscription": id, "error": null}`, or, when the iteration throws,
 * `{"subscription": id, "error": {code, message, data}}` (the error mapped as a handler's).
 * If `produce` itself throws (or its promise rejects), the subscribe request gets that error
 * instead and no stream starts. The unsubscribe method (`un` + the name, unless
 * `options.unsubscribe` says otherwise) answers `true` and stops the stream (its `signal`
 * aborts and the iterator's `return()` is called), or `false` when no such stream runs. A
 * connection that ends (without a session to resume) stops every stream it carried.
 *
 * @param {StreamProducer} produce
 * @param {StreamOptions} [options]
 * @returns {Handler} A handler for `handlers`; called directly, it just calls `produce`.
 */
export function stream(produce, options = {}) {
  if (typeof produce !== 'function') {
    throw new TypeError('volley: stream() takes a function returning an async iterable (an async generator function, say)');
  }
  if (options === null || typeof options !== 'object') throw new TypeError('volley: stream() options must be an object');
  const item = nameOption(options.item, 'stream() option item');
  const unsubscribe = nameOption(options.unsubscribe, 'stream() option unsubscribe');
  /**
   * @this {unknown} The handlers object, as for any handler.
   * @param {any} params
   * @param {HandlerContext} context
   */
  const handler = function (params, context) {
    return produce.call(this, params, context);
  };
  /** @type {Handler & { [STREAM]?: StreamSpec }} */ (handler)[STREAM] = { item, unsubscribe };
  return handler;
}

/**
 * The default item method of a stream subscribed (or served) as `method`: the name without
 * its `subscribe_` prefix (`subscribe_load`: `load`), or without `subscribe` before a capital
 * letter, lowered (`subscribeLoad`: `load`); any other name gets `_item` appended
 * (`ticks`: `ticks_item`). The Rust crate's `volley::stream::default_item` follows the same rule.
 * @param {string} method
 * @returns {string}
 */
function defaultItem(method) {
  if (method.startsWith('subscribe_') && method.length > 10) return method.slice(10);
  const first = method.charAt(9);
  if (method.startsWith('subscribe') && first !== '' && first !== first.toLowerCase()) {
    return first.toLowerCase() + method.slice(10);
  }
  return `${method}_item`;
}

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {string | undefined}
 */
function nameOption(value, name) {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new TypeError(`volley: ${name} must be a non-empty string, not ${String(value)}`);
  return value;
}

/**
 * @param {unknown} value
 * @returns {number}
 */
function bufferSizeOption(value) {
  if (value === undefined) return DEFAULTS.bufferSize;
  if (typeof value !== 'number' || !(value >= 1)) {
    throw new TypeError(`volley: bufferSize must be a number of items >= 1, not ${String(value)}`);
  }
  return Math.floor(value);
}

/**
 * The handler's stream options, if it was made with {@link stream}.
 * @param {unknown} fn
 * @returns {StreamSpec | undefined}
 */
function streamSpec(fn) {
  return typeof fn === 'function' ? /** @type {any} */ (fn)[STREAM] : undefined;
}

/**
 * The iterator of what a stream producer returned.
 * @param {unknown} source
 * @returns {{ iterator: AsyncIterator<unknown> | Iterator<unknown>, sync: boolean }}
 */
function iteratorOf(source) {
  const s = /** @type {any} */ (source);
  if (s !== null && s !== undefined) {
    if (typeof s[Symbol.asyncIterator] === 'function') return { iterator: s[Symbol.asyncIterator](), sync: false };
    if (typeof s[Symbol.iterator] === 'function' && typeof s !== 'string') return { iterator: s[Symbol.iterator](), sync: true };
  }
  throw new TypeError(`the stream handler returned ${safeJson(source)}, not an async iterable or an iterable`);
}

/**
 * The key under which a consumed stream's items are routed: its item method and its
 * subscription id's JSON text.
 * @param {string} item
 * @param {string | number} id
 * @returns {string}
 */
function routeKey(item, id) {
  return JSON.stringify([item, id]);
}

/**
 * The params of an item notification (`result`) or of the end of a stream (`error`), as a
 * producer sends them; `null` for any other params.
 * @param {unknown} params
 * @returns {{ id: string | number, params: Record<string, unknown> } | null}
 */
function streamParams(params) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return null;
  const p = /** @type {Record<string, unknown>} */ (params);
  const id = p.subscription;
  if (typeof id !== 'string' && typeof id !== 'number') return null;
  return { id, params: p };
}

/**
 * A `next()` call of a {@link Subscription} waiting for an item.
 * @template T
 * @typedef {{ resolve: (r: IteratorResult<T, undefined>) => void, reject: (e: Error) => void }} Waiter
 */

/**
 * A stream this peer consumes (made by {@link Peer#subscribe}): an async iterable of its
 * items, in order.
 *
 * The iteration ends when the producer ends the stream; it throws {@link RpcError} when the
 * producer ends it with an error, {@link LaggedError} when the code fell more than
 * `bufferSize` items behind, and {@link DisconnectedError} when the connection ended
 * without a session to resume (items already received are delivered first in each case).
 * Leaving a `for await` loop early (`break`, `return`, a throw), `return()`, `cancel()` or
 * the subscription's `signal` cancels the stream: the unsubscribe method is sent with
 * `[id]`, items still buffered are dropped, and the iteration ends.
 *
 * @template [T=unknown]
 * @implements {AsyncIterableIterator<T>}
 */
export class Subscription {
  /** @type {string | number} */
  #id;
  /** @type {string} */
  #method;
  /** @type {string} */
  #item;
  /** @type {number} */
  #bufferSize;
  /** @type {SubscriptionLink} */
  #link;
  /** @type {AbortSignal | undefined} */
  #signal;
  /** Items received and not yet taken, from `#head` on. @type {unknown[]} */
  #items = [];
  #head = 0;
  /**
   * How the stream ended, to tell the code once the buffered items are taken: `undefined`
   * while it runs, `null` when it finished, or the error to throw.
   * @type {Error | null | undefined}
   */
  #end = undefined;
  /** The iteration is over: nothing more is delivered. */
  #closed = false;
  /** `next()` calls waiting for an item. @type {Waiter<T>[]} */
  #waiting = [];
  #onAbort = () => {
    this.cancel();
  };

  /**
   * Not for direct use: call {@link Peer#subscribe}.
   * @param {symbol} token
   * @param {{ id: string | number, method: string, item: string, bufferSize: number, link: SubscriptionLink, signal?: AbortSignal }} init
   */
  constructor(token, init) {
    if (token !== TOKEN) throw new TypeError('volley: use peer.subscribe(method, params, options) to make a Subscription');
    this.#id = init.id;
    this.#method = init.method;
    this.#item = init.item;
    this.#bufferSize = init.bufferSize;
    this.#link = init.link;
    this.#signal = init.signal;
    init.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** The subscription id the producer gave (a string or a number). */
  get id() {
    return this.#id;
  }

  /** The subscribe method. */
  get method() {
    return this.#method;
  }

  /** The method of the item notifications. */
  get item() {
    return this.#item;
  }

  /** @returns {AsyncIterableIterator<T>} */
  [Symbol.asyncIterator]() {
    return this;
  }

  /**
   * The next item: `{ value, done: false }`, or `{ done: true }` once the stream ended (or
   * was cancelled); rejects with the error that ended it.
   * @returns {Promise<IteratorResult<T, undefined>>}
   */
  next() {
    if (this.#head < this.#items.length) {
      const value = /** @type {T} */ (this.#items[this.#head]);
      this.#items[this.#head] = undefined;
      this.#head += 1;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#end !== undefined) {
      const end = this.#end;
      this.#close();
      return end === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(end);
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /**
   * Cancels the stream (as {@link Subscription#cancel}) without waiting for the producer's
   * answer; `for await` calls it when the loop is left early.
   * @returns {Promise<IteratorResult<T, undefined>>}
   */
  return() {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Cancels the stream: sends the unsubscribe method with `[id]` (unless the stream already
   * ended), drops the items not taken yet, and ends the iteration (a waiting `next()` gets
   * `{ done: true }`). Resolves once the producer answered the unsubscribe, or it could not
   * be sent or answered; never rejects. Cancelling again does nothing.
   * @returns {Promise<void>}
   */
  cancel() {
    if (this.#closed) return Promise.resolve();
    const running = this.#end === undefined;
    this.#close();
    return running ? this.#link.cancel() : Promise.resolve();
  }

  /**
   * An item arrived (used by the peer). Returns false, and keeps nothing, when `bufferSize`
   * items already wait: the stream is lagging.
   * @param {unknown} value
   * @returns {boolean}
   */
  [DELIVER](value) {
    if (this.#closed || this.#end !== undefined) return true;
    const waiter = this.#waiting.shift();
    if (waiter) {
      waiter.resolve({ value: /** @type {T} */ (value), done: false });
      return true;
    }
    if (this.#items.length - this.#head >= this.#bufferSize) return false;
    this.#items.push(value);
    return true;
  }

  /**
   * The stream ended (used by the peer): `null` when it finished, else the error the
   * iteration throws once the buffered items are taken.
   * @param {Error | null} error
   */
  [FINISH](error) {
    if (this.#closed || this.#end !== undefined) return;
    this.#end = error;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#waiting.length === 0) return;
    // Waiting means nothing is buffered: the first waiting `next()` learns of the end now.
    const first = /** @type {Waiter<T>} */ (this.#waiting.shift());
    this.#close(); // the other waiting calls get `{ done: true }`
    if (error === null) first.resolve({ value: undefined, done: true });
    else first.reject(error);
  }

  /** Ends the iteration: nothing more is delivered. */
  #close() {
    this.#closed = true;
    this.#end = null;
    this.#items = [];
    this.#head = 0;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.resolve({ value: undefined, done: true });
  }
}

// ---------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------

/** @param {unknown} method */
function checkMethod(method) {
  if (typeof method !== 'string') throw new TypeError(`volley: method must be a string, not ${typeof method}`);
}

/** @param {unknown} method */
function checkNotification(method) {
  checkMethod(method);
  if (method === 'rpc.ack' || method === 'rpc.session') {
    throw new TypeError(`volley: "${method}" is the session extension's own notification; it cannot be sent`);
  }
}

/**
 * `{"jsonrpc":"2.0","id":<id>,"method":<method>,"params":<params>}`; without an id, a
 * notification.
 * @param {number | undefined} id
 * @param {string} method
 * @param {unknown} params
 * @returns {string}
 */
function encodeRequest(id, method, params) {
  let s = `{"jsonrpc":"2.0",${id === undefined ? '' : `"id":${id},`}"method":${JSON.stringify(method)}`;
  if (params !== undefined) {
    const p = params === null || typeof params !== 'object' ? undefined : JSON.stringify(params);
    if (p === undefined || (p[0] !== '{' && p[0] !== '[')) {
      throw new TypeError(`volley: params of "${method}" must be an array or an object`);
    }
    s += `,"params":${p}`;
  }
  return `${s}}`;
}

/**
 * @param {unknown} message
 * @returns {{ kind: 'request' | 'notification' | 'response' } | { kind: 'invalid', hasId: boolean, detail: string }}
 */
function classify(message) {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return { kind: 'invalid', hasId: false, detail: 'a message must be a JSON object' };
  }
  const m = /** @type {Record<string, unknown>} */ (message);
  const hasId = Object.hasOwn(m, 'id');
  if (hasId && !(typeof m.id === 'string' || typeof m.id === 'number' || m.id === null)) {
    return { kind: 'invalid', hasId: false, detail: 'id must be a string, a number or null' };
  }
  if (m.jsonrpc !== '2.0') return { kind: 'invalid', hasId, detail: 'jsonrpc must be "2.0"' };
  if (Object.hasOwn(m, 'method')) {
    if (typeof m.method !== 'string') return { kind: 'invalid', hasId, detail: 'method must be a string' };
    if (Object.hasOwn(m, 'params') && (m.params === null || typeof m.params !== 'object')) {
      return { kind: 'invalid', hasId, detail: 'params must be an array or an object' };
    }
    return { kind: hasId ? 'request' : 'notification' };
  }
  const hasResult = Object.hasOwn(m, 'result');
  const hasError = Object.hasOwn(m, 'error');
  if (hasId && hasResult !== hasError) return { kind: 'response' };
  if (hasResult && hasError) return { kind: 'invalid', hasId, detail: 'a response has either result or error, not both' };
  return { kind: 'invalid', hasId, detail: 'not a request, notification or response' };
}

/**
 * A response message as a batch outcome.
 * @param {any} message
 * @returns {BatchOutcome}
 */
function toOutcome(message) {
  if (!Object.hasOwn(message, 'error')) return { result: message.result };
  const e = message.error;
  if (e !== null && typeof e === 'object' && Number.isInteger(e.code) && typeof e.message === 'string') {
    return { error: new RpcError(e.code, e.message, e.data) };
  }
  return {
    error: new RpcError(ErrorCodes.INTERNAL_ERROR, 'Internal error', `the peer sent a malformed error object: ${safeJson(e)}`),
  };
}

/**
 * The key under which a running request is found by `rpc.cancel`.
 * @param {unknown} id
 * @returns {string}
 */
function idKey(id) {
  return typeof id === 'string' ? `s${id}` : `n${String(id)}`;
}

/**
 * The id as it goes back on the wire: its own source text when that can be found, so an
 * id such as `1.0e2` or `18446744073709551617` comes back byte for byte.
 * @param {unknown} id
 * @param {() => string | undefined} rawId
 * @returns {string}
 */
function idText(id, rawId) {
  if (id === null) return 'null';
  const raw = rawId();
  if (raw !== undefined) {
    try {
      if (JSON.parse(raw) === id) return raw;
    } catch {
      // fall through to the re-encoded id
    }
  }
  return JSON.stringify(id);
}

/**
 * @param {string} idSource
 * @param {unknown} result
 * @returns {string}
 */
function success(idSource, result) {
  /** @type {string | undefined} */
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch (err) {
    return failure(idSource, ErrorCodes.INTERNAL_ERROR, 'Internal error', `the result could not be encoded as JSON: ${errorText(err)}`);
  }
  return `{"jsonrpc":"2.0","id":${idSource},"result":${body ?? 'null'}}`;
}

/**
 * @param {string} idSource
 * @param {number} code
 * @param {string} message
 * @param {unknown} [data]
 * @returns {string}
 */
function failure(idSource, code, message, data) {
  return `{"jsonrpc":"2.0","id":${idSource},"error":${errorObject(code, message, data)}}`;
}

/**
 * A JSON-RPC error object, as JSON text.
 * @param {number} code
 * @param {string} message
 * @param {unknown} [data]
 * @returns {string}
 */
function errorObject(code, message, data) {
  try {
    return JSON.stringify(data === undefined ? { code, message } : { code, message, data });
  } catch (err) {
    return JSON.stringify({ code, message, data: `the error data could not be encoded as JSON: ${errorText(err)}` });
  }
}

/**
 * The reply for an error a handler threw.
 * @param {string} idSource
 * @param {unknown} err
 * @returns {string}
 */
function failureFrom(idSource, err) {
  const { code, message, data } = errorFields(err);
  return failure(idSource, code, message, data);
}

/**
 * The error object (JSON text) for an error a stream's producer threw, as a handler's.
 * @param {unknown} err
 * @returns {string}
 */
function errorJson(err) {
  const { code, message, data } = errorFields(err);
  return errorObject(code, message, data);
}

/**
 * The JSON-RPC error for an error a handler threw: an upstream call's local failure is
 * -32011; one with an integer `code` keeps its `code`, `message` and `data`; any other is
 * -32603 with its message as `data`.
 * @param {unknown} err
 * @returns {{ code: number, message: string, data: unknown }}
 */
function errorFields(err) {
  if (
    err instanceof DisconnectedError ||
    err instanceof TimeoutError ||
    err instanceof CancelledError ||
    err instanceof SessionExpiredError
  ) {
    return { code: ErrorCodes.UPSTREAM_CALL_FAILED, message: 'Upstream call failed', data: err.message };
  }
  const e = /** @type {any} */ (err);
  if (e !== null && typeof e === 'object' && Number.isInteger(e.code)) {
    const message = typeof e.message === 'string' ? e.message : String(e.message ?? '');
    return { code: e.code, message, data: e.data };
  }
  return { code: ErrorCodes.INTERNAL_ERROR, message: 'Internal error', data: errorText(err) };
}

/**
 * Ends an iterator early (its `finally` blocks run); what that does is not waited for.
 * @param {AsyncIterator<unknown> | Iterator<unknown>} iterator
 */
function closeIterator(iterator) {
  try {
    const r = iterator.return?.();
    if (r && typeof (/** @type {any} */ (r).then) === 'function') /** @type {Promise<unknown>} */ (r).then(undefined, () => {});
  } catch {
    // A generator already running, or a return() that throws: nothing more to do.
  }
}

/**
 * @param {unknown} err
 * @returns {string}
 */
function errorText(err) {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return safeJson(err);
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function safeJson(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------
// Session resumption
// ---------------------------------------------------------------------------------------

/**
 * A session's bookkeeping from its start: nothing sent, nothing received. Its id and token
 * come with the hello.
 * @param {Hello} [hello]
 * @returns {Session}
 */
function newSession(hello) {
  return {
    id: hello?.id ?? '',
    token: hello?.token ?? '',
    graceMs: hello?.graceMs ?? 0,
    sent: 0,
    received: 0,
    ackSent: 0,
    replay: [],
    replayBytes: 0,
    ackTimer: undefined,
  };
}

/**
 * The params of an `rpc.session` hello; `null` when `message` is anything else.
 * @param {unknown} message
 * @returns {Hello | null}
 */
function helloOf(message) {
  if (!isControl(message)) return null;
  const m = /** @type {{ method: string, params?: any }} */ (message);
  const p = m.params;
  if (m.method !== 'rpc.session' || p === null || typeof p !== 'object') return null;
  if (typeof p.id !== 'string' || p.id === '' || typeof p.token !== 'string' || typeof p.resumed !== 'boolean') return null;
  if (!isCount(p.received)) return null;
  return { id: p.id, token: p.token, resumed: p.resumed, received: p.received, graceMs: isCount(p.graceMs) ? p.graceMs : 0 };
}

/**
 * Whether `message` is one of the extension's own notifications (`rpc.ack`, `rpc.session`)
 * sent as a single message: those are not counted, and never reach a handler.
 * @param {unknown} message
 * @returns {boolean}
 */
function isControl(message) {
  if (classify(message).kind !== 'notification') return false;
  const method = /** @type {{ method: string }} */ (message).method;
  return method === 'rpc.ack' || method === 'rpc.session';
}

/**
 * @param {unknown} n
 * @returns {n is number}
 */
function isCount(n) {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The length of `text` in UTF-8 bytes, as it goes on the wire.
 * @param {string} text
 * @returns {number}
 */
function utf8Length(text) {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // 2 bytes up to U+07FF, 3 above; a surrogate pair (2 code units) makes 4.
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

/**
 * @param {number} code
 * @param {string} reason
 * @returns {string}
 */
function describeClose(code, reason) {
  return reason ? `code ${code}: ${reason}` : `code ${code}`;
}

// ---------------------------------------------------------------------------------------
// Id source text. The frame has already been parsed by JSON.parse, so it is valid JSON.
// ---------------------------------------------------------------------------------------

/**
 * The source text of the top-level `id` member: for an object, a string (or `undefined`);
 * for an array, one entry per element.
 * @param {string} t
 * @returns {string | undefined | Array<string | undefined>}
 */
function idSources(t) {
  let i = skipSpace(t, 0);
  if (t.charCodeAt(i) === 123) return objectId(t, i).raw;
  if (t.charCodeAt(i) !== 91) return undefined;
  /** @type {Array<string | undefined>} */
  const out = [];
  i = skipSpace(t, i + 1);
  if (t.charCodeAt(i) === 93) return out;
  for (;;) {
    if (t.charCodeAt(i) === 123) {
      const o = objectId(t, i);
      out.push(o.raw);
      i = o.end;
    } else {
      out.push(undefined);
      i = skipValue(t, i);
    }
    i = skipSpace(t, i);
    if (t.charCodeAt(i) !== 44) return out;
    i = skipSpace(t, i + 1);
  }
}

/**
 * @param {string} t
 * @param {number} i Index of the object's `{`.
 * @returns {{ raw: string | undefined, end: number }}
 */
function objectId(t, i) {
  /** @type {string | undefined} */
  let raw;
  i = skipSpace(t, i + 1);
  if (t.charCodeAt(i) === 125) return { raw, end: i + 1 };
  for (;;) {
    const keyEnd = skipString(t, i);
    const key = t.slice(i, keyEnd);
    i = skipSpace(t, skipSpace(t, keyEnd) + 1);
    const valueEnd = skipValue(t, i);
    if (key === '"id"' || (key.includes('\\') && JSON.parse(key) === 'id')) raw = t.slice(i, valueEnd);
    i = skipSpace(t, valueEnd);
    if (t.charCodeAt(i) !== 44) return { raw, end: i + 1 };
    i = skipSpace(t, i + 1);
  }
}

/**
 * @param {string} t
 * @param {number} i
 * @returns {number}
 */
function skipSpace(t, i) {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i += 1;
    else return i;
  }
}

/**
 * @param {string} t
 * @param {number} i Index of the opening quote.
 * @returns {number} Index after the closing quote.
 */
function skipString(t, i) {
  let j = i + 1;
  for (;;) {
    j = t.indexOf('"', j);
    if (j < 0) return t.length;
    let k = j - 1;
    while (t.charCodeAt(k) === 92) k -= 1;
    if ((j - 1 - k) % 2 === 0) return j + 1;
    j += 1;
  }
}

/**
 * @param {string} t
 * @param {number} i
 * @returns {number}
 */
function skipValue(t, i) {
  const c = t.charCodeAt(i);
  if (c === 34) return skipString(t, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    while (i < t.length) {
      const d = t.charCodeAt(i);
      if (d === 34) {
        i = skipString(t, i);
        continue;
      }
      if (d === 123 || d === 91) depth += 1;
      else if ((d === 125 || d === 93) && --depth === 0) return i + 1;
      i += 1;
    }
    return i;
  }
  while (i < t.length) {
    const d = t.charCodeAt(i);
    if (d === 44 || d === 125 || d === 93 || d === 32 || d === 9 || d === 10 || d === 13) break;
    i += 1;
  }
  return i;
}
