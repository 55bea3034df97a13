// `Color` is one of three names.
// expect-error: Type '"Purple"' is not assignable to type 'Color'
import type { Color } from "../generated/drawing.js";

export const color: Color = "Purple";
