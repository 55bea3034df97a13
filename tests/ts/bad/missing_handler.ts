// The client must serve every method the server calls: `confirm` is missing.
// expect-error: Property 'confirm' is missing
import { connectApi } from "../generated/calc.js";

export const api = connectApi("ws://localhost/ws", { tick: () => {} });
