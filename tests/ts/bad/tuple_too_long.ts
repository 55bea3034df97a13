// `origin` is a pair.
// expect-error: Source has 3 element(s) but target allows only 2
// expect-error-at: origin
import type { Api } from "../generated/drawing.js";

export async function run(api: Api): Promise<unknown> {
  return api.server.draw.create({ title: "t", shapes: [], origin: [0, 0, 0] });
}
