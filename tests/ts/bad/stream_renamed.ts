// The names of a stream's notifications come from its declaration, not from the caller.
// expect-error: 'item' does not exist in type 'SubscribeOptions'
// expect-error-at: item
import type { Api } from "../generated/streams.js";

export const words = (api: Api) => api.server.words({}, { item: "other" });
