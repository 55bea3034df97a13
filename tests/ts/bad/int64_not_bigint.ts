// 64-bit integers are plain numbers, not bigints.
// expect-error: 'bigint' is not assignable to type 'number'
// expect-error-at: id
import type { Api } from "../generated/drawing.js";

export function run(api: Api): void {
  api.server.draw.touch({ id: 1n });
}
