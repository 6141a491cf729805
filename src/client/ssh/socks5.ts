import type {Duplex} from 'node:stream'

// The server side of a SOCKS5 handshake (RFC 1928), what `-D` needs: no authentication, the
// CONNECT command, IPv4, IPv6 and domain-name destinations (names are resolved at the far end,
// by the node, as `curl --socks5-hostname` expects). BIND and UDP ASSOCIATE are refused.

export const SOCKS_VERSION = 5
const AUTH_NONE = 0x00
const AUTH_UNACCEPTABLE = 0xff
const CMD_CONNECT = 0x01
const ATYP_IPV4 = 0x01
const ATYP_DOMAIN = 0x03
const ATYP_IPV6 = 0x04

/** Reply codes (RFC 1928 §6). */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const

export class SocksError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SocksError'
  }
}

export interface SocksRequest {
  host: string
  port: number
  /** Sends the reply; after a success the socket carries the connection's bytes. */
  reply(code: number): void
}

/** Reads exactly n bytes from a paused-mode stream; rejects if it ends first. */
class ByteReader {
  private buffered = Buffer.alloc(0)
  private waiting: {n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void} | undefined
  private ended = false

  constructor(private readonly socket: Duplex) {
    socket.on('data', this.onData)
    socket.once('end', this.onEnd)
    socket.once('close', this.onEnd)
    socket.once('error', this.onEnd)
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk])
    this.settle()
  }

  private readonly onEnd = () => {
    this.ended = true
    this.settle()
  }

  private settle(): void {
    const w = this.waiting
    if (!w) return
    if (this.buffered.length >= w.n) {
      this.waiting = undefined
      const out = this.buffered.subarray(0, w.n)
      this.buffered = this.buffered.subarray(w.n)
      w.resolve(out)
    } else if (this.ended) {
      this.waiting = undefined
      w.reject(new SocksError('the client closed the connection during the SOCKS handshake'))
    }
  }

  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting = {n, resolve, reject}
      this.settle()
    })
  }

  /** Stops reading; bytes read past the handshake go back to the stream. */
  release(): void {
    this.socket.off('data', this.onData)
    this.socket.off('end', this.onEnd)
    this.socket.off('close', this.onEnd)
    this.socket.off('error', this.onEnd)
    this.socket.pause()
    if (this.buffered.length && !this.ended && !this.socket.readableEnded) this.socket.unshift(this.buffered)
  }
}

/**
 * Runs the handshake up to the CONNECT request. The caller connects to {host, port}, then calls
 * `reply(SocksReply.succeeded)` and pipes, or replies with a failure code (which closes the socket).
 */
export async function acceptSocks5(socket: Duplex): Promise<SocksRequest> {
  const reader = new ByteReader(socket)
  try {
    const [version, methodCount] = await reader.read(2)
    if (version !== SOCKS_VERSION) throw new SocksError(`not a SOCKS5 client (version byte ${version})`)
    const methods = await reader.read(methodCount!)
    if (!methods.includes(AUTH_NONE)) {
      socket.end(Buffer.from([SOCKS_VERSION, AUTH_UNACCEPTABLE]))
      throw new SocksError('the SOCKS client offers no method without authentication')
    }
    socket.write(Buffer.from([SOCKS_VERSION, AUTH_NONE]))

    const [v, cmd, , atyp] = await reader.read(4)
    if (v !== SOCKS_VERSION) throw new SocksError(`bad SOCKS request version ${v}`)
    let host: string
    if (atyp === ATYP_IPV4) host = [...(await reader.read(4))].join('.')
    else if (atyp === ATYP_IPV6) host = ipv6Text(await reader.read(16))
    else if (atyp === ATYP_DOMAIN) {
      const [len] = await reader.read(1)
      host = (await reader.read(len!)).toString('latin1')
    } else {
      socket.end(replyBytes(SocksReply.addressTypeNotSupported))
      throw new SocksError(`unsupported SOCKS address type ${atyp}`)
    }
    const port = (await reader.read(2)).readUInt16BE(0)
    if (cmd !== CMD_CONNECT) {
      socket.end(replyBytes(SocksReply.commandNotSupported))
      throw new SocksError(`unsupported SOCKS command ${cmd} (only CONNECT)`)
    }
    reader.release()
    return {
      host,
      port,
      reply(code: number) {
        if (code === SocksReply.succeeded) socket.write(replyBytes(code))
        else socket.end(replyBytes(code))
      },
    }
  } catch (err) {
    reader.release()
    throw err
  }
}

/** A reply with bound address 0.0.0.0:0 (clients ignore it for CONNECT). */
export function replyBytes(code: number): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0])
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16))
  return groups.join(':')
}
