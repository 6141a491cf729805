import {UsageError} from '../lib/errors.js'

// Proxy addresses as users type them ("proxy.example.com", "proxy:3080", "[::1]:3080",
// "https://proxy:3080/") and as the profile stores them (host:port). The profile is named after
// the host alone, so "proxy" and "proxy:3080" find the same profile.

export const DEFAULT_WEB_PROXY_PORT = 3080
export const DEFAULT_SSH_PROXY_PORT = 3023

export interface HostPort {
  host: string
  port: number
}

/** Splits "host[:port]" (IPv6 in brackets); a URL's scheme and path are dropped. */
export function parseHostPort(addr: string, defaultPort: number, what = 'proxy address'): HostPort {
  let text = addr.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  text = text.replace(/\/.*$/, '')
  if (!text) throw new UsageError(`empty ${what}`, {hint: 'expected host or host:port, e.g. proxy.example.com:3080'})
  let host: string
  let portText: string | undefined
  const bracketed = text.match(/^\[([^\]]+)\](?::(.*))?$/)
  if (bracketed) {
    host = bracketed[1]!
    portText = bracketed[2]
  } else if ((text.match(/:/g) ?? []).length > 1) {
    host = text // a bare IPv6 address without a port
  } else {
    const colon = text.lastIndexOf(':')
    host = colon < 0 ? text : text.slice(0, colon)
    portText = colon < 0 ? undefined : text.slice(colon + 1)
  }
  if (!host) throw new UsageError(`${what} "${addr}" has no host`, {hint: 'expected host or host:port, e.g. proxy.example.com:3080'})
  if (portText === undefined || portText === '') return {host, port: defaultPort}
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new UsageError(`${what} "${addr}" has an invalid port "${portText}"`, {hint: 'ports are 1-65535'})
  }
  return {host, port}
}

export function formatHostPort({host, port}: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** "proxy.example.com:3080" -> "proxy.example.com": the profile name and the keys directory. */
export function proxyHostOf(addr: string): string {
  return parseHostPort(addr, DEFAULT_WEB_PROXY_PORT).host
}

/** The web proxy address in canonical host:port form (default port 3080). */
export function normalizeWebProxyAddr(addr: string): string {
  return formatHostPort(parseHostPort(addr, DEFAULT_WEB_PROXY_PORT))
}
