import {BadParameterError} from '../../lib/errors.js'
import {list, map, object, oneOf, optional, required, scalar, string, type ObjectValue} from '../../config/spec.js'
import {ADD_KEYS_MODES} from '../agent/add-keys-mode.js'

// tsh's config file (~/.tsh/config/config.yaml, /etc/tsh.yaml), Teleport's keys:
//
//   proxy: proxy.example.com:3080        default --proxy
//   user: alice                          default --user
//   add_keys_to_agent: auto              auto | no | yes | only
//   key_store: keychain                  auto | file | keychain (where tsh login keeps the private key)
//   aliases:
//     l: "tsh login --proxy=proxy.example.com"
//     connect: "$TSH ssh -A $0"
//   extra_headers:
//     - proxy: "*.example.com"
//       headers: {X-Foo: bar}

export const KEY_STORE_MODES = ['auto', 'file', 'keychain'] as const
export type KeyStoreMode = (typeof KEY_STORE_MODES)[number]

/** An alias is the first word of a tsh command line: a plain word, not a flag. */
function checkAliasName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new BadParameterError(`invalid alias name ${JSON.stringify(name)}: use letters, digits, "_", "." and "-", not starting with a flag`)
}

function checkHeaderName(name: string): void {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new BadParameterError(`invalid HTTP header name ${JSON.stringify(name)}`)
}

const headerValue = scalar('a header value', (text) => {
  if (/[\r\n\0]/.test(text)) throw new BadParameterError('a header value cannot hold line breaks')
  return text
})

export const TSH_CONFIG_SCHEMA = object({
  proxy: optional(string(), {doc: 'Proxy web address used when --proxy is not given'}),
  user: optional(string(), {doc: 'Teleport user used when --user is not given'}),
  add_keys_to_agent: optional(oneOf(ADD_KEYS_MODES), {doc: 'Load keys into the SSH agent at login (--add-keys-to-agent)'}),
  key_store: optional(oneOf(KEY_STORE_MODES), {doc: 'Where tsh login keeps the private key (--key-store)'}),
  aliases: optional(map(string(), checkAliasName), {doc: 'Commands of your own: name -> command line ($0..$9, $TSH)'}),
  extra_headers: optional(
    list(
      object({
        proxy: required(string(), {doc: 'Proxy host pattern ("*" matches any run of characters)'}),
        headers: required(map(headerValue, checkHeaderName), {doc: 'Headers sent on web API calls to matching proxies'}),
      }),
    ),
    {doc: 'HTTP headers to send to proxies whose host matches'},
  ),
})

/** What a file holds, snake_case as written. */
export type TshConfigFile = ObjectValue<(typeof TSH_CONFIG_SCHEMA)['fields']>

/** The files merged: the user's over the site-wide one. */
export interface TshConfig {
  proxy?: string
  user?: string
  addKeysToAgent?: (typeof ADD_KEYS_MODES)[number]
  keyStore?: KeyStoreMode
  aliases: Record<string, string>
  extraHeaders: {proxy: string; headers: Record<string, string>}[]
}

export const EMPTY_TSH_CONFIG: TshConfig = {aliases: {}, extraHeaders: []}

/** Later files win key by key; aliases merge by name; header rules of later files are tried first. */
export function mergeTshConfigs(files: TshConfigFile[]): TshConfig {
  const out: TshConfig = {aliases: {}, extraHeaders: []}
  for (const file of files) {
    if (file.proxy !== undefined) out.proxy = file.proxy
    if (file.user !== undefined) out.user = file.user
    if (file.add_keys_to_agent !== undefined) out.addKeysToAgent = file.add_keys_to_agent
    if (file.key_store !== undefined) out.keyStore = file.key_store
    Object.assign(out.aliases, file.aliases ?? {})
    out.extraHeaders = [...(file.extra_headers ?? []), ...out.extraHeaders]
  }
  return out
}
