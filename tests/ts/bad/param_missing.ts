// `add` needs both `a` and `b`.
// expect-error: Property 'b' is missing
import type { Api } from "../generated/calc.js";

export async function run(api: Api): Promise<number> {
  return api.server.add({ a: 1 });
}
