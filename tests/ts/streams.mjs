// The generated client for the streams test API (generated/streams.ts, compiled to
// generated/js/) against a real volley server, started by tests/typescript.rs: streams the
// server serves, consumed with for-await, and one this script serves (an async generator)
// that the server consumes. Prints "streams ok" when every check passed.
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { connectApi } from "./generated/js/streams.js";
import { Subscription } from "./generated/js/volley.js";

const deadline = setTimeout(() => {
  console.error("streams.mjs: not done within 20 s");
  process.exit(2);
}, 20_000);

const api = await connectApi(
  process.argv[2],
  {
    // A stream this client serves: positional params are named, as for any handler.
    subscribe_clicks: async function* ({ count }, { signal }) {
      for (let i = 1; i <= count && !signal.aborted; i++) yield { x: i, y: 10 * i };
    },
  },
  { WebSocket, reconnect: false, heartbeat: false, timeoutMs: 5_000 },
);

// A stream the server ends: every item, in order, then the loop ends.
const numbers = await api.server.subscribe_numbers({ from: 3, count: 4 });
assert.ok(numbers instanceof Subscription);
assert.equal(numbers.item, "numbers");
const got = [];
for await (const n of numbers) got.push(n);
assert.deepEqual(got, [3, 4, 5, 6]);

// The same by wire name.
const byName = [];
for await (const n of await api.subscribe("subscribe_numbers", { from: 10, count: 2 })) byName.push(n);
assert.deepEqual(byName, [10, 11]);

// A stream with its own names, left early: the script's `break` unsubscribes (`stop_words`).
const words = await api.server.words({ prefix: "w" });
assert.equal(words.item, "word");
const first = [];
for await (const w of words) {
  first.push(w);
  if (first.length === 3) break;
}
assert.deepEqual(first, ["w0", "w1", "w2"]);

// The server consumes this client's stream: (1 + 10) + (2 + 20) + (3 + 30).
assert.equal(await api.server.sum_clicks({ count: 3 }), 66);

console.log("streams ok");
api.peer.close();
clearTimeout(deadline);
