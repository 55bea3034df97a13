// `confirm` gets `{ question: string }`; there is no `prompt`.
// expect-error: Property 'prompt' does not exist
import type { ClientHandlers } from "../generated/calc.js";

export const handlers: ClientHandlers = {
  confirm: (params) => params.prompt === "ok",
  tick: () => {},
};
