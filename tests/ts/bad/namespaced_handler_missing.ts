// Handlers are keyed by wire name: `"ui.changed"` is missing.
// expect-error: Property '"ui.changed"' is missing
import { connectApi } from "../generated/drawing.js";

export const api = connectApi("ws://localhost/ws", {
  "ui.pick_color": ({ choices }) => choices[0] ?? "Red",
  "ui.subscribe_pointer": () => [],
});
