// `add` takes numbers.
// expect-error: Type 'string' is not assignable to type 'number'
// expect-error-at: b
import type { Api } from "../generated/calc.js";

export async function run(api: Api): Promise<number> {
  return api.server.add({ a: 1, b: "2" });
}
