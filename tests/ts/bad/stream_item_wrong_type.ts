// The items of `subscribe_numbers` are numbers.
// expect-error: Type 'number' is not assignable to type 'string'
// expect-error-at: text
import type { Api } from "../generated/streams.js";

export async function run(api: Api): Promise<string[]> {
  const out: string[] = [];
  for await (const n of await api.server.subscribe_numbers({ from: 1, count: 3 })) {
    const text: string = n;
    out.push(text);
  }
  return out;
}
