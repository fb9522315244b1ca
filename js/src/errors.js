// MnasNetError: the one error type the SDK throws on purpose.

// C status (enum mnas_status in src/mnas.h) -> stable string code.
const STATUS_CODES = [
  null, // MNAS_OK
  'E_ARGUMENT', // MNAS_E_ARG
  'E_MODEL_FORMAT', // MNAS_E_FORMAT: not a well-formed ONNX file
  'E_UNSUPPORTED_OP', // MNAS_E_UNSUPPORTED
  'E_MODEL_FORMAT', // MNAS_E_MODEL: well-formed but inconsistent graph
  'E_NOMEM',
  'E_INPUT',
  'E_LIMIT',
  'E_IO',
  'E_STATE',
];

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
