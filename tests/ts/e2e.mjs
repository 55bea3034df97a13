// The generated client for the shared test API (generated/calc.ts, compiled to generated/js/)
// against a real volley server, started by tests/typescript.rs, which also calls this client's
// handlers from the server side. Prints "calls ok" once its own calls are done, then waits for
// the server's `tick(3)` and prints "done ticks=[...]".
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { AppErrorCodes, connectApi, isAppError } from "./generated/js/calc.js";
import { RpcError } from "./generated/js/volley.js";

const deadline = setTimeout(() => {
  console.error("e2e.mjs: no tick(3) from the server within 20 s");
  process.exit(2);
}, 20_000);

let finish = () => {};
const finished = new Promise((resolve) => {
  finish = resolve;
});
const ticks = [];
const api = await connectApi(
  process.argv[2],
  {
    confirm: ({ question }, { signal }) => !signal.aborted && question === "yes?",
    tick: ({ n }) => {
      ticks.push(n);
      if (n === 3) finish();
    },
  },
  { WebSocket, reconnect: false, heartbeat: false, timeoutMs: 5_000 },
);

assert.equal(await api.server.add({ a: 20, b: 22 }), 42);
assert.equal(await api.call("add", { a: 1, b: 2 }), 3);
// The server calls this client's `confirm` before it answers.
assert.equal(await api.server.ask({ question: "yes?" }), true);
assert.equal(await api.server.ask({ question: "no?" }), false);
// `strict` is optional: left out, the server reads null.
assert.equal(await api.server.find({ name: "x" }), "found x");
assert.equal(await api.server.find({ name: "y" }), "maybe y");
// `find`'s own errors (`AppError`): the guard, the code constants and the data of the code.
await assert.rejects(
  api.server.find({ name: "z", strict: true }),
  (e) => isAppError(e) && e.code === AppErrorCodes.NotFound && e.data === "z" && e.message === "not found",
);
await assert.rejects(
  api.server.find({ name: "root" }),
  (e) => isAppError(e) && e.code === AppErrorCodes.Denied && e.data === undefined,
);
// Not one of `AppError`'s: still an RpcError, and the guard says no.
await assert.rejects(api.server.boom(), (e) => e instanceof RpcError && e.code === -32603 && !isAppError(e));
assert.deepEqual(await api.server.echo({ value: { nested: [1, null, "x"] } }), { nested: [1, null, "x"] });
const [peerId, address] = await api.server.whoami();
assert.equal(typeof peerId, "number");
assert.match(address, /^127\.0\.0\.1:\d+$/);
api.server.log({ msg: "from typescript" });
console.log("calls ok");

await finished;
console.log(`done ticks=${JSON.stringify(ticks)}`);
api.peer.close();
clearTimeout(deadline);
