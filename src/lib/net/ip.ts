/** "::ffff:127.0.0.1" (an IPv4 client on a dual-stack socket) as "127.0.0.1". */
export function plainIp(ip: string | undefined): string {
  if (!ip) return ''
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
}

/** "host:port", with an IPv6 address in brackets ("[::1]:22"), as OpenSSH and Teleport write endpoints. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
