// `add` has no parameter `c`.
// expect-error: 'c' does not exist
// expect-error-at: c
import type { Api } from "../generated/calc.js";

export async function run(api: Api): Promise<number> {
  return api.server.add({ a: 1, b: 2, c: 3 });
}
