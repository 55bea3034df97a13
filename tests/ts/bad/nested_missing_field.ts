// A circle needs its center; the nested namespace `draw` is typed all the way down.
// expect-error: Property 'center' is missing
import type { Api } from "../generated/drawing.js";

export async function run(api: Api): Promise<unknown> {
  return api.server.draw.create({ title: null, shapes: [{ kind: "circle", radius: 1 }], origin: [0, 0] });
}
