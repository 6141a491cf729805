import {UsageError} from '../lib/errors.js'
import {formatHostPort, splitHostPort, type HostPort} from '../lib/net/ip.js'

// Proxy addresses as users type them ("proxy.example.com", "proxy:3080", "[::1]:3080",
// "https://proxy:3080/") and as the profile stores them (host:port). The profile is named after
// the host alone, so "proxy" and "proxy:3080" find the same profile.

export const DEFAULT_WEB_PROXY_PORT = 3080
export const DEFAULT_SSH_PROXY_PORT = 3023

export type {HostPort} from '../lib/net/ip.js'
export {formatHostPort}

const SHAPE_HINT = 'expected host or host:port, e.g. proxy.example.com:3080'

/** Splits "host[:port]" (IPv6 in brackets); a URL's scheme and path are dropped. */
export function parseHostPort(addr: string, defaultPort: number, what = 'proxy address'): HostPort {
  let text = addr.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  text = text.replace(/\/.*$/, '')
  if (!text) throw new UsageError(`empty ${what}`, {hint: SHAPE_HINT})
  let parts: {host: string; port?: string}
  try {
    parts = splitHostPort(text)
  } catch (err) {
    throw new UsageError(`${what} "${addr}": ${(err as Error).message}`, {hint: SHAPE_HINT})
  }
  const {host, port: portText} = parts
  if (!host) throw new UsageError(`${what} "${addr}" has no host`, {hint: SHAPE_HINT})
  if (portText === undefined || portText === '') return {host, port: defaultPort}
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new UsageError(`${what} "${addr}" has an invalid port "${portText}"`, {hint: 'ports are 1-65535'})
  }
  return {host, port}
}

/** "proxy.example.com:3080" -> "proxy.example.com": the profile name and the keys directory. */
export function proxyHostOf(addr: string): string {
  return parseHostPort(addr, DEFAULT_WEB_PROXY_PORT).host
}

/** The web proxy address in canonical host:port form (default port 3080). */
export function normalizeWebProxyAddr(addr: string): string {
  return formatHostPort(parseHostPort(addr, DEFAULT_WEB_PROXY_PORT))
}
