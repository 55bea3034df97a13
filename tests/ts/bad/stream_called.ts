// A stream is subscribed to, not called: `call` takes requests only.
// expect-error: Argument of type '"subscribe_numbers"' is not assignable to parameter of type '"sum_clicks"'
// expect-error-at: "subscribe_numbers"
import type { Api } from "../generated/streams.js";

export const result = (api: Api) => api.call("subscribe_numbers", { from: 1, count: 3 });
