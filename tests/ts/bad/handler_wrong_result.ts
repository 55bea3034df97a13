// `confirm` must answer a boolean, not a string.
// expect-error: Type 'string' is not assignable to type 'boolean | Promise<boolean>'
// expect-error-at: confirm
import { connectApi } from "../generated/calc.js";

const confirm = ({ question }: { question: string }) => `yes to ${question}`;

export const api = connectApi("ws://localhost/ws", { confirm, tick: () => {} });
