// `add` resolves with a number.
// expect-error: Type 'number' is not assignable to type 'string'
// expect-error-at: sum
import type { Api } from "../generated/calc.js";

export async function run(api: Api): Promise<string> {
  const sum: string = await api.server.add({ a: 1, b: 2 });
  return sum;
}
