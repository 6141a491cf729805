import type {IncomingMessage, ServerResponse} from 'node:http'
import {plainIp} from '../../lib/net/ip.js'

// Small pieces of the web server: bodies read with a size limit, JSON and HTML answers (the
// security headers are set before any handler runs: security-headers.ts), and the client's address.

/** Thrown while reading a request; becomes an HTTP error answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export const JSON_BODY_LIMIT = 64 * 1024

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

export function sendJsonError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, {error: {message}})
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html)})
  res.end(html)
}

/** The body as text, refused past `limit` bytes or when its media type is not `type`. */
export async function readBody(req: IncomingMessage, type: 'application/json', limit: number): Promise<string> {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
  if (mediaType !== type) throw new HttpError(415, `expected a ${type} body`)
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw new HttpError(413, 'request body too large')
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > limit) throw new HttpError(413, 'request body too large')
      chunks.push(chunk)
    }
  } catch (err) {
    if (err instanceof HttpError) throw err
    // The server's request deadline (web-server.ts) or the client cut the body off.
    throw new HttpError(408, 'the request body did not arrive in time')
  }
  return Buffer.concat(chunks).toString('utf8')
}

export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req, 'application/json', JSON_BODY_LIMIT)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'expected a JSON object')
  return parsed as Record<string, unknown>
}

/** The client's IP, IPv4-mapped IPv6 addresses written as IPv4. */
export function clientIp(req: IncomingMessage): string {
  return plainIp(req.socket.remoteAddress)
}

/** host[:port] the client addressed (the Host header); undefined when absent or odd. */
export function requestHost(req: IncomingMessage): string | undefined {
  const host = req.headers.host
  if (!host || !/^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host)) return undefined
  return host
}
