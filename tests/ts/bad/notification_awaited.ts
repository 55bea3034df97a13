// `log` is a notification: nothing comes back.
// expect-error: Property 'then' does not exist on type 'void'
import type { Api } from "../generated/calc.js";

export function run(api: Api): void {
  api.server.log({ msg: "hi" }).then(() => {});
}
