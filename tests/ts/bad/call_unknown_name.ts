// `call` takes the wire name of a request the server serves.
// expect-error: Argument of type '"subtract"' is not assignable
import type { Api } from "../generated/calc.js";

export async function run(api: Api): Promise<unknown> {
  return api.call("subtract", { a: 1, b: 2 });
}
