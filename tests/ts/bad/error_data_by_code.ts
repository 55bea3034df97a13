// `AppError`'s 403 (`Denied`) has no data: narrowed to it, `data` is not a string.
// expect-error: Type 'undefined' is not assignable to type 'string'
// expect-error-at: name
import { AppErrorCodes, isAppError } from "../generated/calc.js";

export function name(e: unknown): string {
  if (isAppError(e) && e.code === AppErrorCodes.Denied) {
    const name: string = e.data;
    return name;
  }
  return "";
}
