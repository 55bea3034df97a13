// Uses the generated clients the way an application would; must pass `tsc --strict`.
import * as calc from "./generated/calc.js";
import * as drawing from "./generated/drawing.js";
import * as feed from "./generated/streams.js";
import { LaggedError, RpcError, connect } from "./generated/volley.js";

export async function calculator(url: string): Promise<string> {
  const seen: number[] = [];
  const api = await calc.connectApi(
    url,
    {
      confirm: ({ question }, { signal }) => !signal.aborted && question.endsWith("?"),
      tick: ({ n }) => {
        seen.push(n);
      },
    },
    { timeoutMs: 5_000, reconnect: { maxDelayMs: 1_000 }, heartbeat: false },
  );

  const sum: number = await api.server.add({ a: 1, b: 2 });
  const answer: boolean = await api.server.ask({ question: "ok?" });
  const found: string = await api.server.find({ name: "x" });
  const strict: string = await api.server.find({ name: "y", strict: null });
  const nothing: null = await api.server.boom();
  const [peerId, address] = await api.server.whoami();
  const echoed: unknown = await api.server.echo({ value: [1, "two"] });
  const logged: void = api.server.log({ msg: "hello" });

  const controller = new AbortController();
  const waited = await api.server.wait({ key: 7 }, { timeoutMs: 100, signal: controller.signal });
  const byName: calc.ServerMethods["add"]["result"] = await api.call("add", { a: 2, b: 3 });
  const noParams = await api.call("whoami");
  api.notify("log", { msg: "by name" });

  try {
    await api.server.find({ name: "root", strict: true });
  } catch (e) {
    if (calc.isAppError(e)) {
      // Narrowed by code: each code's `data` has its own type.
      switch (e.code) {
        case calc.AppErrorCodes.NotFound: {
          const name: string = e.data;
          seen.push(name.length);
          break;
        }
        case calc.AppErrorCodes.Denied: {
          const none: undefined = e.data;
          seen.push(none === undefined ? 403 : 0);
          break;
        }
      }
    } else if (e instanceof RpcError) {
      seen.push(e.code);
    }
  }
  api.peer.addEventListener("close", (event) => seen.push(event.detail.code));
  api.peer.close();
  return [sum, answer, found, strict, nothing, peerId, address, echoed, logged, waited, byName, noParams, seen].join();
}

/** Handlers may be async, and may be written apart from the call. */
export const asyncHandlers: calc.ClientHandlers = {
  async confirm(params, context) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return !context.signal.aborted && params.question.length > 0;
  },
  async tick() {},
};

/** The two halves of `connectApi`, for an application that wants the peer itself. */
export async function byHand(url: string): Promise<calc.Api> {
  const peer = await connect(url, { handlers: calc.clientHandlers(asyncHandlers) });
  return calc.createApi(peer);
}

export function area(shape: drawing.Shape): number {
  switch (shape.kind) {
    case "circle":
      return Math.PI * shape.radius * shape.radius;
    case "polygon":
      return shape.points.length;
    case "empty":
      return 0;
  }
}

export function describeChange(change: drawing.Change): string {
  if (change === "Reset") return "reset";
  if ("Moved" in change) return `moved by ${change.Moved.x},${change.Moved.y}`;
  if ("Renamed" in change) return `${change.Renamed.from} -> ${change.Renamed.to}`;
  const [from, to]: [drawing.Color, drawing.Color] = change.Recolored;
  return `${from} -> ${to}`;
}

export async function drawings(url: string): Promise<string[]> {
  const out: string[] = [];
  const api = await drawing.connectApi(url, {
    "ui.pick_color": async ({ choices }) => choices[0] ?? "Red",
    "ui.changed": ({ drawing: id, change }) => {
      out.push(`${id}: ${describeChange(change)}`);
    },
    "ui.subscribe_pointer": async function* (_params, { signal }) {
      while (!signal.aborted) yield { x: 1, y: 2 };
    },
  });
  const created: drawing.Drawing = await api.server.draw.create({
    title: null,
    shapes: [{ kind: "circle", center: { x: 0, y: 0 }, radius: 2 }, { kind: "empty" }],
    origin: [10, -20],
  });
  out.push(String(created.id), created.title ?? "untitled", String(created["z-index"]));
  for (const [tag, value] of Object.entries(created.tags)) out.push(`${tag}=${value}`);
  const scale: drawing.Meters = created.scale;
  out.push(String(scale), String(created.parent?.id), String(created.history?.length));

  const byId = await api.server.draw.get({ id: 5 });
  const byTitle = await api.server.draw.get({ id: "sketch" });
  if (byId !== null && byTitle !== null) out.push(byId.color, byTitle.color);
  const [topLeft, bottomRight] = await api.server.draw.bounds({ shape: { kind: "polygon", points: [] } });
  out.push(String(topLeft.x + bottomRight.y));
  const page: drawing.Page = await api.server.draw.list();
  const next = await api.server.draw.list({ cursor: page.next ?? null, limit: 10 });
  out.push(...next.items.map((d) => String(d.id)));
  const census: { [color: string]: number } = await api.server.draw.census();
  out.push(String(census["Red"] ?? 0));
  const version: drawing.Api2 = await api.server.draw.version();
  const weird: drawing.weird_name_1 = await api.server.draw.weird({ weird: { "0": true } });
  out.push(version.version, String(weird["0"]));
  api.server.draw.touch({ id: 1 });
  const cleared: null = await api.server.draw.layers.clear({ drawing: 1 });
  const viaWireName = await api.call("draw.layers.clear", { drawing: 2 });
  out.push(String(cleared), String(viaWireName));

  // A stream, nested by its namespace: the items are typed, the subscription can be left.
  const changes = await api.server.draw.subscribe_changes({ drawing: 1 }, { bufferSize: 16 });
  const subscription: string | number = changes.id;
  out.push(String(subscription));
  try {
    for await (const change of changes) {
      out.push(describeChange(change));
      if (out.length > 20) break;
    }
  } catch (e) {
    if (e instanceof LaggedError) out.push("lagged");
  }
  await changes.cancel();
  return out;
}

/** The method maps read as documentation, and type other code. */
export type PickColor = drawing.ClientMethods["ui.pick_color"];
export const pick: PickColor["result"] = "Green";
export const requests: drawing.RequestName<drawing.ServerMethods>[] = ["draw.create", "draw.layers.clear"];
export const notifications: drawing.NotificationName<drawing.ServerMethods>[] = ["draw.touch"];

/** Streams both ways: consumed with for-await, and served with an async generator. */
export async function streams(url: string): Promise<number[]> {
  const out: number[] = [];
  const api = await feed.connectApi(url, {
    subscribe_clicks: async function* ({ count }, { signal }) {
      for (let i = 0; i < count && !signal.aborted; i++) yield { x: i, y: -i };
    },
  });
  for await (const n of await api.server.subscribe_numbers({ from: 1, count: 3 })) {
    const x: number = n;
    out.push(x);
  }
  // Every param of `words` is optional; the caller's options leave the stream's names alone.
  const controller = new AbortController();
  for await (const word of await api.server.words(undefined, { signal: controller.signal, timeoutMs: 100 })) {
    const text: string = word;
    out.push(text.length);
    controller.abort();
  }
  for await (const n of await api.subscribe("subscribe_numbers", { from: 1, count: 1 })) out.push(n);
  out.push(await api.server.sum_clicks({ count: 2 }));
  return out;
}

/** A stream's handler may also return an iterable, or a promise of one. */
export const syncClicks: feed.ClientHandlers = {
  subscribe_clicks: ({ count }) => Array.from({ length: count }, (_, i) => ({ x: i, y: i })),
};
export const laterClicks: feed.ClientHandlers = {
  subscribe_clicks: async () => [{ x: 0, y: 0 }],
};
export const streamNames: feed.StreamName<feed.ServerMethods>[] = ["subscribe_numbers", "words"];
export const wordItem: feed.ServerMethods["words"]["item"] = "word";
export const wordStop: feed.ServerMethods["words"]["unsubscribe"] = "stop_words";
