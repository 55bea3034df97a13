// Types for volley.js: bidirectional JSON-RPC 2.0 over WebSocket.

/** Parameters of a call: by position (array) or by name (object). */
export type Params = readonly unknown[] | { readonly [name: string]: unknown };

/** The JSON-RPC error codes volley uses (PROTOCOL.md, "Error codes"). */
export declare const ErrorCodes: {
  readonly PARSE_ERROR: -32700;
  readonly INVALID_REQUEST: -32600;
  readonly METHOD_NOT_FOUND: -32601;
  readonly INVALID_PARAMS: -32602;
  readonly INTERNAL_ERROR: -32603;
  readonly REQUEST_CANCELLED: -32800;
  readonly BATCH_TOO_LARGE: -32010;
  readonly UPSTREAM_CALL_FAILED: -32011;
  readonly SHUTTING_DOWN: -32012;
  readonly TOO_MANY_STREAMS: -32015;
};

/**
 * The remote peer answered with a JSON-RPC error object: "the remote said no".
 * Handlers may throw one to answer with a chosen code, message and data.
 */
export declare class RpcError extends Error {
  constructor(code: number, message: string, data?: unknown);
  readonly name: 'RpcError';
  /** JSON-RPC error code. */
  code: number;
  /** Extra information, as sent on the wire (`undefined` when absent). */
  data: unknown;
}

/**
 * The call got no answer because the connection was down, dropped or closed, or it could
 * not be queued. The remote peer may or may not have run it.
 */
export declare class DisconnectedError extends Error {
  constructor(message: string, options?: { cause?: unknown });
  readonly name: 'DisconnectedError';
}

/** The call got no answer within its deadline (`rpc.cancel` was sent for it). */
export declare class TimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown });
  readonly name: 'TimeoutError';
}

/** The call was cancelled through its `AbortSignal` (`rpc.cancel` was sent if it was on the wire). */
export declare class CancelledError extends Error {
  constructor(message: string, options?: { cause?: unknown });
  readonly name: 'CancelledError';
}

/**
 * The call was written on a resumable session that the server no longer had when the
 * client came back (its grace period passed, or it restarted): the remote peer may or may
 * not have run it. Calls never written, and idempotent ones, do not fail this way: they go
 * to the new session.
 */
export declare class SessionExpiredError extends Error {
  constructor(message: string, options?: { cause?: unknown });
  readonly name: 'SessionExpiredError';
}

/**
 * A stream this peer consumed ended because its code fell more than `bufferSize` items
 * behind: the items already buffered were delivered first, and the stream was cancelled
 * (its unsubscribe method was sent). Subscribe again to carry on.
 */
export declare class LaggedError extends Error {
  constructor(message: string, options?: { cause?: unknown });
  readonly name: 'LaggedError';
}

/** What a handler gets besides the params. */
export interface HandlerContext {
  /** Aborted when the caller sends `rpc.cancel` for this request, or the connection drops. */
  readonly signal: AbortSignal;
  /** The peer the request came from (to call it back). */
  readonly peer: Peer;
}

/**
 * A method this peer serves. Gets the params as sent (object, array, or `undefined`); its
 * return value (or what its promise resolves to) is the result. A thrown error with an
 * integer `code` (an `RpcError`, say) is sent with its `code`, `message` and `data`; any
 * other becomes -32603 "Internal error" with the error's message as `data`.
 */
export type Handler = (params: any, context: HandlerContext) => unknown;

/** Methods the remote peer may call, by name. */
export type Handlers = { [method: string]: Handler };

export interface ReconnectOptions {
  /** Ceiling of the first delay (default 250). */
  initialDelayMs?: number;
  /** Largest ceiling; also how long a connection must stay up before the backoff starts over (default 10000). */
  maxDelayMs?: number;
  /** How much the ceiling grows with each failed attempt (default 2). */
  factor?: number;
}

export interface HeartbeatOptions {
  /** Time from one answered `rpc.ping` to the next ping (default 15000). */
  intervalMs?: number;
  /** How long to wait for "pong" before closing the socket (code 4000) and reconnecting (default 10000). */
  timeoutMs?: number;
}

/**
 * The part of the WebSocket interface volley.js uses: the browser's, Node >= 22's global,
 * or the npm `ws` package's.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  /**
   * Drops the connection without a close frame (the `ws` package has it). Used to give up on
   * the socket of a resumable session: a close frame would end the session.
   */
  terminate?(): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectOptions {
  /** Methods the remote peer may call on this one, by name. Looked up at each call. */
  handlers?: Handlers | object;
  /** Default deadline of `call` and `batch` in ms (default 30000); `0` or `Infinity` for none. */
  timeoutMs?: number;
  /**
   * How long `connect` waits for the first open socket, across attempts when reconnecting,
   * and how long each attempt may take (default 30000).
   */
  connectTimeoutMs?: number;
  /** Reconnect with exponential backoff and full jitter when the connection drops (default true). */
  reconnect?: boolean | ReconnectOptions;
  /** Send `rpc.ping` periodically and reconnect when it goes unanswered (default true). */
  heartbeat?: boolean | HeartbeatOptions;
  /**
   * Hold calls, notifications and batches made while disconnected (up to this many; `true`
   * means 100) and send them once connected again. When off (the default), they fail at
   * once with `DisconnectedError`. (While a resumable session waits for its socket, they
   * are held for it regardless.)
   */
  queueWhileDisconnected?: boolean | number;
  /**
   * Ask the server for a resumable session (PROTOCOL.md, "Session resumption"); on by
   * default when `reconnect` is on, and never without it. A server that offers it answers
   * with an `rpc.session` hello; then a socket lost without a close frame does not fail the
   * calls in flight, nor abort the handlers running: the client reconnects, resumes the
   * session, and each side writes again what the other missed. A server without the
   * extension gives a plain connection.
   */
  resume?: boolean;
  /**
   * Bytes of sent frames a session keeps until the server acknowledges them (default
   * 262144); when full, further frames wait until an acknowledgement frees room (an empty
   * buffer takes one frame of any size).
   */
  maxReplayBytes?: number;
  /** The WebSocket class to use (default: the global one). On Node 20, pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /**
   * A token for the server's authentication, sent as the `token` query parameter of every
   * connection attempt (browsers cannot set headers on a WebSocket).
   */
  token?: string;
  /**
   * Streams this peer serves at once (handlers made with `stream`), default 1024; one more
   * subscribe is refused with -32015 "Too many streams".
   */
  maxStreams?: number;
}

export interface CallOptions {
  /** Deadline for the answer in ms (default: the peer's `timeoutMs`). */
  timeoutMs?: number;
  /** Cancels the call: it rejects with `CancelledError` and `rpc.cancel` is sent. */
  signal?: AbortSignal;
  /**
   * Running the call twice does no harm (default false): when the socket drops before its
   * answer and there is no session to resume (or the session expired), it is sent again on
   * the next connection (up to 3 times) instead of failing.
   */
  idempotent?: boolean;
}

export interface SubscribeOptions {
  /**
   * The method of the item notifications. Default: the subscribe method without its
   * `subscribe_` prefix (`subscribe_load`: `load`), or without `subscribe` before a capital
   * letter, lowered (`subscribeLoad`: `load`); any other name + `_item`.
   */
  item?: string;
  /** The method that cancels the stream, sent with `[id]` (default: `un` + the subscribe method). */
  unsubscribe?: string;
  /**
   * Cancels the subscription: before the answer, `subscribe` rejects with `CancelledError`
   * (`rpc.cancel` is sent); after it, the iteration ends and the unsubscribe method is sent.
   */
  signal?: AbortSignal;
  /** Deadline for the answer to the subscribe request in ms (default: the peer's `timeoutMs`). */
  timeoutMs?: number;
  /**
   * Items kept that the code has not taken yet (default 1024); one more ends the stream
   * with `LaggedError` (after the buffered ones) and cancels it.
   */
  bufferSize?: number;
}

/**
 * A stream this peer consumes (made by `peer.subscribe`): an async iterable of its items,
 * in order.
 *
 * The iteration ends when the producer ends the stream. It throws `RpcError` when the
 * producer ends it with an error, `LaggedError` when the code fell more than `bufferSize`
 * items behind, and `DisconnectedError` when the connection ended without a session to
 * resume (a resumed session keeps it going); items already received are delivered first.
 * Leaving a `for await` loop early (`break`, `return`, a throw), `return()`, `cancel()` or
 * the subscription's `signal` cancels it: the unsubscribe method is sent with `[id]`,
 * buffered items are dropped (and late ones too), and the iteration ends.
 */
export declare class Subscription<T = unknown> implements AsyncIterableIterator<T> {
  private constructor();
  /** The subscription id the producer gave: a string or a number, compared as sent. */
  readonly id: string | number;
  /** The subscribe method. */
  readonly method: string;
  /** The method of the item notifications. */
  readonly item: string;
  /** The next item, or `{ done: true }` once the stream ended or was cancelled. */
  next(): Promise<IteratorResult<T, undefined>>;
  /** Cancels the stream (as `cancel()`) without waiting for the producer's answer. */
  return(): Promise<IteratorResult<T, undefined>>;
  /**
   * Cancels the stream: sends the unsubscribe method with `[id]` (unless it already ended),
   * drops the items not taken yet, and ends the iteration. Resolves once the producer
   * answered the unsubscribe, or it could not be sent or answered; never rejects.
   */
  cancel(): Promise<void>;
  [Symbol.asyncIterator](): Subscription<T>;
}

/**
 * The producer of a served stream: gets the params and a context whose `signal` aborts when
 * the consumer unsubscribes or the connection ends, and returns (or resolves with) an async
 * iterable or an iterable of the items, an async generator typically.
 */
export type StreamProducer<T = unknown> = (
  params: any,
  context: HandlerContext,
) => AsyncIterable<T> | Iterable<T> | PromiseLike<AsyncIterable<T> | Iterable<T>>;

export interface StreamOptions {
  /**
   * The method of the item notifications. Default: the name the handler is served under,
   * by the rule of `SubscribeOptions.item` (`subscribe_ticks`: `ticks`).
   */
  item?: string;
  /** The method that cancels the stream (default: `un` + the name the handler is served under). */
  unsubscribe?: string;
}

/**
 * Makes a handler that serves a stream; put it in `handlers` under the subscribe method's
 * name. A subscribe request is answered with a fresh subscription id (a small integer); the
 * items follow as `{"method": item, "params": {"subscription": id, "result": value}}`, the
 * next pulled only once the one before was written, then `{"subscription": id, "error":
 * null}`, or the error the iteration threw (mapped as a handler's). If `produce` throws
 * before returning an iterable, the subscribe request gets that error. The unsubscribe
 * method answers `true` and stops the stream (its `signal` aborts, the iterator's
 * `return()` is called), or `false` when no such stream runs. A connection that ends
 * without a session to resume stops every stream it carried.
 */
export declare function stream<T = unknown>(produce: StreamProducer<T>, options?: StreamOptions): Handler;

export interface BatchItem {
  method: string;
  params?: Params;
  /** Send as a notification (no answer; its outcome is `undefined`). */
  notify?: boolean;
}

/** One call's outcome in a batch. */
export type BatchOutcome<T = unknown> =
  | { result: T; error?: undefined }
  | { error: RpcError; result?: undefined };

/** An event of a `Peer`; its data is in `detail`. */
export interface PeerEvent<T> extends Event {
  readonly detail: T;
}

export interface PeerEventMap {
  /** A socket opened (after every reconnect too; on a resumed session, once the server's hello has come). */
  open: PeerEvent<{}>;
  /**
   * An open socket closed; every pending call has been rejected, unless a resumable session
   * outlives the socket (`peer.session` is still set then: calls in flight and running
   * handlers wait for the resume).
   */
  close: PeerEvent<{ code: number; reason: string }>;
  /** The next connection attempt starts in `delayMs`. */
  reconnecting: PeerEvent<{ attempt: number; delayMs: number }>;
  /**
   * A socket opened again after a drop. `resumed` is true when it continues the session of
   * the socket before (nothing was lost: rooms joined and subscriptions made still hold);
   * false when it is a new connection (or a new session, the old one having expired) and
   * the app must join and subscribe again.
   */
  reconnected: PeerEvent<{ resumed: boolean }>;
  /** A socket error, or a notification handler that threw (`method` says which). */
  error: PeerEvent<{ error: unknown; method?: string }>;
}

type Listener = ((event: Event) => void) | { handleEvent(event: Event): void } | null;
type ListenerOptions = boolean | { capture?: boolean; once?: boolean; passive?: boolean; signal?: AbortSignal };

/**
 * The other end of the connection. Made by `connect`; stays valid across reconnects until
 * `close()`.
 */
export declare class Peer extends EventTarget {
  private constructor();
  /** The WebSocket URL, resolved. */
  readonly url: string;
  /** Whether a socket is open now (and, on a resumed session, past the server's hello). */
  readonly connected: boolean;
  /**
   * The resumable session, once the server's hello started one: its `id`, and `graceMs`,
   * how long the server keeps it after losing the socket. `null` on a plain connection,
   * before the hello, and once the session ended.
   */
  readonly session: { readonly id: string; readonly graceMs: number } | null;

  /**
   * Calls `method` on the remote peer and resolves with its result. Rejects with `RpcError`
   * when the remote peer answers with an error, and with `TimeoutError`, `CancelledError` or
   * `DisconnectedError` when no answer came (on timeout and cancel, `rpc.cancel` is sent).
   */
  call<T = any>(method: string, params?: Params, options?: CallOptions): Promise<T>;

  /**
   * Sends a notification. Throws `DisconnectedError` when it can be neither sent nor queued,
   * and `TypeError` for `rpc.ack` and `rpc.session` (the session extension's own).
   */
  notify(method: string, params?: Params): void;

  /**
   * Sends several calls and notifications in one frame. Resolves with one entry per item,
   * in order: `{ result }` or `{ error }` for calls, `undefined` for notifications. Rejects
   * as a whole with `TimeoutError`, `CancelledError` or `DisconnectedError`.
   */
  batch(items: readonly BatchItem[], options?: CallOptions): Promise<Array<BatchOutcome | undefined>>;

  /**
   * Subscribes to a stream the remote peer serves (PROTOCOL.md, "Streams"): sends the
   * subscribe request and resolves, once the answer with the subscription id came, with a
   * `Subscription`, an async iterable of the items (`for await (const x of sub)`). Items
   * that arrive right behind the answer are kept. Rejects as `call` does when the request
   * fails: `RpcError` when the remote peer refused (or answered with no subscription id),
   * else `TimeoutError`, `CancelledError` or `DisconnectedError`.
   */
  subscribe<T = unknown>(method: string, params?: Params, options?: SubscribeOptions): Promise<Subscription<T>>;

  /**
   * Closes the connection for good (no reconnect). Pending and queued calls reject with
   * `DisconnectedError`, and so do later ones. Throws `RangeError` (and changes nothing) for a
   * code other than 1000 or 3000-4999, or a reason longer than 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof PeerEventMap>(
    type: K,
    listener: (this: Peer, event: PeerEventMap[K]) => void,
    options?: ListenerOptions,
  ): void;
  addEventListener(type: string, listener: Listener, options?: ListenerOptions): void;
  removeEventListener<K extends keyof PeerEventMap>(
    type: K,
    listener: (this: Peer, event: PeerEventMap[K]) => void,
    options?: boolean | { capture?: boolean },
  ): void;
  removeEventListener(
    type: string,
    listener: Listener,
    options?: boolean | { capture?: boolean },
  ): void;
}

/**
 * Opens a connection and resolves with the `Peer` once the socket is open.
 *
 * Rejects with `DisconnectedError` if the first connection fails and `reconnect` is off;
 * with reconnect on it keeps trying, and rejects with `TimeoutError` after
 * `connectTimeoutMs`. Rejects with `TypeError` for a bad URL or option.
 *
 * @param url `ws://` or `wss://` URL, or a path (`/ws`) resolved against the page's
 *   `location` (http becomes ws, https becomes wss).
 */
export declare function connect(url: string | URL, options?: ConnectOptions): Promise<Peer>;
