import {StringDecoder} from 'node:string_decoder'

// Output of several nodes at once, each line prefixed with its node: `[node-1] up 3 days`.
// Lines are written whole, so concurrent nodes never interleave within a line.

export class LinePrefixer {
  private partial = ''
  private readonly decoder = new StringDecoder('utf8')

  constructor(
    private readonly prefix: string,
    private readonly write: (text: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))
    const lines = text.split('\n')
    this.partial = lines.pop() ?? ''
    if (lines.length) this.write(lines.map((l) => `${this.prefix}${l}\n`).join(''))
  }

  /** Writes an unterminated last line, with a newline. */
  flush(): void {
    const rest = this.partial + this.decoder.end()
    if (rest) this.write(`${this.prefix}${rest}\n`)
    this.partial = ''
  }
}
