import {parseHostPort} from '../proxy-addr.js'
import type {TshConfig} from './schema.js'

// extra_headers: headers sent on every web API call to proxies whose host matches a rule's
// pattern ("*" matches any run of characters, as Teleport's). Every matching rule contributes;
// the first to name a header wins (the user's rules come before the site's).

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i')
}

export function extraHeadersFor(config: Pick<TshConfig, 'extraHeaders'>, webProxyAddr: string): Record<string, string> {
  const host = parseHostPort(webProxyAddr, 0).host
  const out: Record<string, string> = {}
  for (const rule of config.extraHeaders) {
    if (!globToRegExp(rule.proxy).test(host) && !globToRegExp(rule.proxy).test(webProxyAddr)) continue
    for (const [name, value] of Object.entries(rule.headers)) if (!Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase())) out[name] = value
  }
  return out
}
