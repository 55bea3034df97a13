// `add` is a request, so `notify` does not take it.
// expect-error: Argument of type '"add"' is not assignable to parameter of type '"log"'
import type { Api } from "../generated/calc.js";

export function run(api: Api): void {
  api.notify("add", { a: 1, b: 2 });
}
