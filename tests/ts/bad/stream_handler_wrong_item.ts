// A served stream's items must be `Click`s: `x` is a number.
// expect-error: Type 'string' is not assignable to type 'number'
import type { ClientHandlers } from "../generated/streams.js";

export const handlers: ClientHandlers = {
  subscribe_clicks: async function* () {
    yield { x: "1", y: 2 };
  },
};
