// The SSH wire encoding (RFC 4251 §5): every key, signature and certificate in this module is
// built from these few primitives. Written by hand because sshpk hides the byte layout we must
// sign and verify, and the format is small enough to get exactly right here.

import {BadParameterError} from '../lib/errors.js'

/** Appends SSH-encoded fields to a growing buffer. */
export class SshWriter {
  private readonly parts: Buffer[] = []

  uint32(value: number): this {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(value)
    this.parts.push(b)
    return this
  }

  uint64(value: bigint): this {
    const b = Buffer.alloc(8)
    b.writeBigUInt64BE(value)
    this.parts.push(b)
    return this
  }

  /** A length-prefixed byte string; text is written as UTF-8. */
  string(value: Buffer | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    this.uint32(bytes.length)
    this.parts.push(bytes)
    return this
  }

  /** A non-negative multiple-precision integer from its unsigned big-endian bytes. */
  mpint(unsignedBigEndian: Buffer): this {
    let start = 0
    while (start < unsignedBigEndian.length && unsignedBigEndian[start] === 0) start++
    let bytes = unsignedBigEndian.subarray(start)
    // A set top bit would read as negative: SSH mpints are two's complement.
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes])
    return this.string(bytes)
  }

  /** Bytes copied as they are, without a length prefix. */
  raw(bytes: Buffer): this {
    this.parts.push(bytes)
    return this
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts)
  }
}

/** Reads SSH-encoded fields; every read past the end is a BadParameterError naming `what`. */
export class SshReader {
  private offset = 0

  constructor(
    private readonly buf: Buffer,
    private readonly what = 'SSH data',
  ) {}

  get position(): number {
    return this.offset
  }

  get remaining(): number {
    return this.buf.length - this.offset
  }

  private take(n: number): Buffer {
    if (n > this.remaining) throw new BadParameterError(`${this.what} is truncated`)
    const out = this.buf.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  uint32(): number {
    return this.take(4).readUInt32BE()
  }

  uint64(): bigint {
    return this.take(8).readBigUInt64BE()
  }

  string(): Buffer {
    return this.take(this.uint32())
  }

  /** A string that must be valid UTF-8 text (names, key ids, principals). */
  text(): string {
    const bytes = this.string()
    const value = bytes.toString('utf8')
    if (!Buffer.from(value, 'utf8').equals(bytes)) throw new BadParameterError(`${this.what} contains text that is not UTF-8`)
    return value
  }

  /** An mpint as unsigned big-endian bytes without leading zeros; negative values are refused. */
  mpint(): Buffer {
    const bytes = this.string()
    if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) throw new BadParameterError(`${this.what} contains a negative integer`)
    let start = 0
    while (start < bytes.length && bytes[start] === 0) start++
    return bytes.subarray(start)
  }

  /** Everything not read yet. */
  rest(): Buffer {
    return this.take(this.remaining)
  }

  /** Refuses trailing bytes: a certificate or key with extra data is malformed, not "close enough". */
  end(): void {
    if (this.remaining !== 0) throw new BadParameterError(`${this.what} has ${this.remaining} unexpected trailing bytes`)
  }
}

/** Splits a buffer holding consecutive SSH strings (a name list, a principal list). */
export function readStringList(buf: Buffer, what: string): string[] {
  const reader = new SshReader(buf, what)
  const out: string[] = []
  while (reader.remaining > 0) out.push(reader.text())
  return out
}
