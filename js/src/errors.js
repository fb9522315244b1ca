// MnasNetError: the one error type the SDK throws on purpose.
import { STATUS } from './abi.js';

// C status (enum mnas_status in src/mnas.h, values in abi.js) -> stable string code.
const STATUS_CODES = {
  [STATUS.E_ARG]: 'E_ARGUMENT',
  [STATUS.E_FORMAT]: 'E_MODEL_FORMAT', // not a well-formed ONNX file
  [STATUS.E_UNSUPPORTED]: 'E_UNSUPPORTED_OP',
  [STATUS.E_MODEL]: 'E_MODEL_FORMAT', // well-formed but inconsistent graph
  [STATUS.E_NOMEM]: 'E_NOMEM',
  [STATUS.E_INPUT]: 'E_INPUT',
  [STATUS.E_LIMIT]: 'E_LIMIT',
  [STATUS.E_IO]: 'E_IO',
  [STATUS.E_STATE]: 'E_STATE',
};

export class MnasNetError extends Error {
  /**
   * @param {string} code  one of E_MODEL_FORMAT, E_UNSUPPORTED_OP, E_INPUT, E_ARGUMENT,
   *                       E_LIMIT, E_NOMEM, E_IO, E_DISPOSED, E_STATE, E_MODEL_MISMATCH
   * @param {string} message
   * @param {number} [status]  the C core's mnas_status, when the error came from it
   */
  constructor(code, message, status) {
    super(message);
    this.name = 'MnasNetError';
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

/** Error for a failed C call: code from the status, message from mnas_error(). */
export function statusError(status, message, context) {
  const code = STATUS_CODES[status] || 'E_STATE';
  const text = message || `mnas status ${status}`;
  return new MnasNetError(code, context ? `${context}: ${text}` : text, status);
}

/** A value as an error message names it: `the string '32'`, `number 1.5`, `null`, `Float32Array`. */
export function describeValue(v) {
  if (v === null || v === undefined) return String(v);
  switch (typeof v) {
    case 'string':
      return `the string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof v} ${String(v)}`;
    case 'function':
      return 'a function';
    default:
      return Array.isArray(v) ? `an array of ${v.length}` : Object.prototype.toString.call(v).slice(8, -1);
  }
}
