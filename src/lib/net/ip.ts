import {isIP} from 'node:net'
import {BadParameterError} from '../errors.js'

/** An endpoint as the config, tsh and the daemons pass it around. */
export interface HostPort {
  host: string
  port: number
}

/** "::ffff:127.0.0.1" (an IPv4 client on a dual-stack socket) as "127.0.0.1". */
export function plainIp(ip: string | undefined): string {
  if (!ip) return ''
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
}

/** "host:port", with an IPv6 address in brackets ("[::1]:22"), as OpenSSH and Teleport write endpoints. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export function formatHostPort(address: HostPort): string {
  return joinHostPort(address.host, address.port)
}

/**
 * Splits "host:port", "[v6]:port", "[v6]", a bare IPv6 address or a bare host. The port stays
 * text (absent when none was written) for the caller to check against its own rules; the host is
 * not checked either. Throws BadParameterError for a "[" without its "]" or junk after the "]".
 */
export function splitHostPort(text: string): {host: string; port?: string} {
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    if (end < 0) throw new BadParameterError('missing "]" after the IPv6 address')
    const rest = text.slice(end + 1)
    if (rest !== '' && !rest.startsWith(':')) throw new BadParameterError('expected ":" and a port after "]"')
    return rest === '' ? {host: text.slice(1, end)} : {host: text.slice(1, end), port: rest.slice(1)}
  }
  // One colon is host:port. (Node's IPv6 pattern takes milliseconds to compile on first use.)
  if (text.indexOf(':') !== text.lastIndexOf(':') && isIP(text) === 6) return {host: text}
  const colon = text.lastIndexOf(':')
  return colon < 0 ? {host: text} : {host: text.slice(0, colon), port: text.slice(colon + 1)}
}

/**
 * An endpoint as this cluster writes them (joinHostPort's inverse: node addresses, the proxy's
 * client address): a port of 0-65535 is required, the host may be empty (":3022"); undefined
 * when unreadable.
 */
export function parseEndpoint(text: string): HostPort | undefined {
  let parts: {host: string; port?: string}
  try {
    parts = splitHostPort(text)
  } catch {
    return undefined
  }
  if (parts.port === undefined || !/^\d{1,5}$/.test(parts.port) || Number(parts.port) > 65535) return undefined
  return {host: parts.host, port: Number(parts.port)}
}
