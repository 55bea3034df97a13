// The fixed text of the TypeScript module volley generates for an API (see `runtime.rs`
// beside this file). Each `//@ <name>` line starts a section that the generator copies into
// the module, replacing every `/*@<name>@*/` placeholder in it with code written for the API.
// These first lines are not copied.

//@ api

/** The wire names of the requests in a method map. */
export type RequestName<M> = { [K in keyof M]: M[K] extends { kind: "request" } ? K : never }[keyof M];

/** The wire names of the notifications in a method map. */
export type NotificationName<M> = { [K in keyof M]: M[K] extends { kind: "notification" } ? K : never }[keyof M];

/** The wire names of the streams in a method map. */
export type StreamName<M> = { [K in keyof M]: M[K] extends { kind: "stream" } ? K : never }[keyof M];

/** The arguments of a call: its params (optional when every parameter is), then call options. */
export type CallArgs<P> = {} extends P
  ? [params?: P, options?: volley.CallOptions]
  : [params: P, options?: volley.CallOptions];

/** The arguments of a notification: its params (optional when every parameter is). */
export type NotifyArgs<P> = {} extends P ? [params?: P] : [params: P];

/**
 * Options of a subscription: volley.js's, but for the names of the item notifications and
 * of the unsubscribe method, which the stream's declaration gives.
 */
export type SubscribeOptions = Omit<volley.SubscribeOptions, "item" | "unsubscribe">;

/** The arguments of a subscription: its params (optional when every parameter is), then options. */
export type SubscribeArgs<P> = {} extends P
  ? [params?: P, options?: SubscribeOptions]
  : [params: P, options?: SubscribeOptions];

/**
 * What the handler of a stream returns: the items, as an async iterable (an async
 * generator, say) or an iterable, or a promise of one.
 */
export type StreamItems<T> = AsyncIterable<T> | Iterable<T> | PromiseLike<AsyncIterable<T> | Iterable<T>>;

/**
 * Calls the server: `await api.server.add({ a: 1, b: 2 })`. Requests resolve with the
 * result, or reject with volley.js's `RpcError`, `TimeoutError`, `CancelledError` or
 * `DisconnectedError`; notifications are sent at once and return nothing. Streams resolve,
 * once the server accepted them, with a volley.js `Subscription`, an async iterable of the
 * items (`for await (const item of await api.server.subscribe_load(...))`); leaving the loop
 * early or `cancel()` unsubscribes.
 */
export interface ServerApi /*@ServerApi@*/

/**
 * The methods this client serves, by wire name; the server calls them. Every member is
 * required. A handler gets the params (always by name) and volley.js's context (`signal`
 * aborts when the server cancels or the connection drops); what it returns or resolves
 * with is the result, and what it throws is sent as the error (an `RpcError` keeps its
 * code). A stream's handler returns its items (an async generator, say): each is sent
 * when the server is ready for it, and the stream ends when they do; `signal` aborts when
 * the server unsubscribes.
 */
export interface ClientHandlers /*@ClientHandlers@*/

/** Options of `connectApi`: volley.js's `connect` options; the handlers come from `ClientHandlers`. */
export type ApiOptions = Omit<volley.ConnectOptions, "handlers">;

/** A connection to the server, typed. */
export interface Api {
  /** The server's methods. */
  readonly server: ServerApi;
  /** The volley.js peer underneath: events, `close()`, `batch()`, untyped calls. */
  readonly peer: volley.Peer;
  /** Calls a request by its wire name: `api.call("add", { a: 1, b: 2 })`. */
  call<M extends RequestName<ServerMethods>>(
    method: M,
    ...args: CallArgs<ServerMethods[M]["params"]>
  ): Promise<ServerMethods[M]["result"]>;
  /** Sends a notification by its wire name. */
  notify<M extends NotificationName<ServerMethods>>(
    method: M,
    ...args: NotifyArgs<ServerMethods[M]["params"]>
  ): void;
  /** Subscribes to a stream by its wire name: `for await (const n of await api.subscribe("subscribe_numbers", { count: 3 }))`. */
  subscribe<M extends StreamName<ServerMethods>>(
    method: M,
    ...args: SubscribeArgs<ServerMethods[M]["params"]>
  ): Promise<volley.Subscription<ServerMethods[M]["result"]>>;
}

/**
 * Connects to `url` (see volley.js's `connect`), serving `handlers` to the server, and
 * resolves once the socket is open.
 */
export async function connectApi(
  url: string | URL,
  handlers: ClientHandlers/*@handlersDefault@*/,
  options: ApiOptions = {},
): Promise<Api> {
  const peer = await volley.connect(url, { ...options, handlers: clientHandlers(handlers) });
  return createApi(peer);
}

/** What `createApi` knows of a stream the server serves. */
type StreamDefaults = { readonly item: string; readonly unsubscribe: string; readonly timeoutMs?: number };

/** The typed API over a volley.js peer whose handlers came from `clientHandlers`. */
export function createApi(peer: volley.Peer): Api {
  const server: ServerApi = /*@server@*/;
  // Each stream's names, and its own deadline as the default.
  const streams: { readonly [M in StreamName<ServerMethods>]: StreamDefaults } = /*@streams@*/;
  return {
    server,
    peer,
    call: (method, ...[params, options]) => peer.call(method, params, options),
    notify: (method, ...[params]) => peer.notify(method, params),
    subscribe: (method, ...[params, options]) => {
      const { item, unsubscribe, timeoutMs } = streams[method];
      return peer.subscribe(method, params, { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...options, item, unsubscribe });
    },
  };
}

/** volley.js handlers that name positional params and call `handlers`, looked up at each call. */
export function clientHandlers(handlers: ClientHandlers): volley.Handlers {
/*@clientHandlers@*/
}
//@ named-params

/** Params as an object: positions named in order; -32602 for extra positions or unknown names. */
function namedParams(method: string, params: unknown, names: readonly string[]): { [name: string]: unknown } {
  const invalid = (detail: string) =>
    new volley.RpcError(volley.ErrorCodes.INVALID_PARAMS, "Invalid params", `${method}: ${detail}`);
  if (params === undefined || params === null) return {};
  if (Array.isArray(params)) {
    if (params.length > names.length) {
      throw invalid(`expected at most ${names.length} params, got ${params.length}`);
    }
    const named: { [name: string]: unknown } = {};
    params.forEach((value: unknown, i) => {
      named[names[i] ?? i] = value;
    });
    return named;
  }
  if (typeof params !== "object") throw invalid("params must be an object or an array");
  for (const name of Object.keys(params)) {
    if (!names.includes(name)) throw invalid(`unknown param "${name}"`);
  }
  return params as { [name: string]: unknown };
}
