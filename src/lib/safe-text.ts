// Text that others chose (node hostnames and labels, user names, key ids, the proxy's words)
// reaches terminals and log files. Control characters in it could clear a screen, move the
// cursor or start a forged log line, so they are shown as escapes instead: `\x1b`, `\n`, `\u202e`.

// C0 and C1 controls, DEL, line/paragraph separators and the bidirectional overrides
// (which reorder what a terminal shows).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

function escapeChar(c: string): string {
  const named = NAMED[c]
  if (named) return named
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** `text` with every control character made visible: safe for one line of a terminal or log. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar)
}

/** Like safeText, but keeps line breaks: for a multi-line message shown as its author laid it out. */
export function safeLines(text: string): string {
  return text.split('\n').map(safeText).join('\n')
}

/** Whether `text` holds any character safeText would escape. */
export function hasControlChars(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text)
}

// JSON.stringify and the YAML encoder escape C0 controls but leave DEL, C1 controls (0x9b is
// an 8-bit CSI), separators and bidi overrides raw. In their output these can only sit inside
// strings, where `\uXXXX` means the same character to a JSON or YAML reader.
const RAW_AFTER_ENCODING = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** Encoder output (JSON, or YAML whose such strings are double-quoted) with those characters escaped. */
export function escapeEncoded(text: string): string {
  return text.replace(RAW_AFTER_ENCODING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Whether a string holds a character the encoders leave raw (YAML must double-quote it). */
export function hasRawAfterEncoding(text: string): boolean {
  return new RegExp(RAW_AFTER_ENCODING.source).test(text)
}

/** JSON as data commands print it: two-space indented, final newline, safe on a terminal. */
export function toSafeJSON(data: unknown): string {
  return escapeEncoded(JSON.stringify(data, null, 2)) + '\n'
}
