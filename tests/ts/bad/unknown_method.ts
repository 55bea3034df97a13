// The server serves no `subtract`.
// expect-error: Property 'subtract' does not exist on type 'ServerApi'
import type { Api } from "../generated/calc.js";

export async function run(api: Api): Promise<number> {
  return api.server.subtract({ a: 1, b: 2 });
}
