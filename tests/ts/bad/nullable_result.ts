// `draw.get` may find nothing: its result is `Drawing | null`.
// expect-error: 'found' is possibly 'null'
import type { Api } from "../generated/drawing.js";

export async function run(api: Api): Promise<number> {
  const found = await api.server.draw.get({ id: 1 });
  return found.id;
}
