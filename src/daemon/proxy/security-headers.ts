import type {ServerResponse} from 'node:http'

// The headers every answer of the web port carries (docs/WEB.md "Pages and security headers"):
// the page's scripts and connections come from this origin only (xterm.js sets inline styles),
// nothing may frame it, browsers do not sniff types, no referrer leaves (links carry tokens).
// Answers are not cached unless a handler says otherwise (hashed assets).

export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ')

const HSTS = 'max-age=31536000; includeSubDomains'

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': WEB_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  pragma: 'no-cache',
}

/** Sets the security headers (and HSTS when browsers can verify the certificate) before any handler runs. */
export function setSecurityHeaders(res: ServerResponse, options: {hsts: boolean}): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value)
  if (options.hsts) res.setHeader('strict-transport-security', HSTS)
}

/** The same headers for a refused WebSocket upgrade, written on the raw socket. */
export function securityHeaderLines(options: {hsts: boolean}): string[] {
  const lines = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}`)
  if (options.hsts) lines.push(`strict-transport-security: ${HSTS}`)
  return lines
}
