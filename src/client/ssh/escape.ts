// OpenSSH-style escape sequences on an interactive session: the escape character (`~`) typed at
// the start of a line (first thing, or right after Enter) is held back and the next key decides:
//   ~.  disconnect      ~?  help      ~~  a literal ~      anything else: both are sent.
// Recognised only at line start, so a `~` inside a line (paths, `cd ~`) passes through at once.

export type EscapeEvent = Buffer | 'disconnect' | 'help'

export class EscapeFilter {
  private atLineStart = true
  private pending = false
  private readonly esc: number

  constructor(escapeChar = '~') {
    this.esc = escapeChar.charCodeAt(0)
  }

  /** Splits typed input into bytes to send and escape commands, in order. Nothing follows a disconnect. */
  push(chunk: Buffer): EscapeEvent[] {
    const events: EscapeEvent[] = []
    let out: number[] = []
    const flush = () => {
      if (out.length) events.push(Buffer.from(out))
      out = []
    }
    for (const b of chunk) {
      if (this.pending) {
        this.pending = false
        if (b === 0x2e /* . */) {
          flush()
          events.push('disconnect')
          return events
        }
        if (b === 0x3f /* ? */) {
          flush()
          events.push('help')
          this.atLineStart = true
          continue
        }
        if (b === this.esc) out.push(b)
        else out.push(this.esc, b)
        this.atLineStart = b === 0x0d || b === 0x0a
        continue
      }
      if (this.atLineStart && b === this.esc) {
        this.pending = true
        continue
      }
      out.push(b)
      this.atLineStart = b === 0x0d || b === 0x0a
    }
    flush()
    return events
  }
}

/** What `~?` prints. Lines end in \r\n: the terminal is in raw mode. */
export function escapeHelp(escapeChar = '~'): string {
  const e = escapeChar < ' ' ? `^${String.fromCharCode(escapeChar.charCodeAt(0) + 64)}` : escapeChar
  return [
    'Supported escape sequences:',
    ` ${e}.   - terminate connection`,
    ` ${e}?   - this message`,
    ` ${e}${e}   - send the escape character by typing it twice`,
    '(Note that escapes are only recognized immediately after newline.)',
    '',
  ].join('\r\n')
}
