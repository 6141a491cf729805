import {Flags} from '@oclif/core'
import {toSafeJSON} from '../lib/safe-text.js'

// tsh's global flags (REFERENCE.md "tsh commands"), each with its environment twin. Spread the
// ones a command uses into its own `static override flags` (oclif reads only own statics).
// Nothing heavy here: every tsh command, `tsh status` included, loads this file.

export const proxyFlag = Flags.string({
  env: 'TELEPORT_PROXY',
  description: 'Proxy web address, host[:port] (port 3080 when omitted)',
  helpGroup: 'GLOBAL',
})

export const userFlag = Flags.string({
  env: 'TELEPORT_USER',
  description: 'Teleport user name [default: the current profile\'s user, else the OS user]',
  helpGroup: 'GLOBAL',
})

export const loginFlag = Flags.string({
  char: 'l',
  env: 'TELEPORT_LOGIN',
  description: 'Remote host login (OS user on the node)',
  helpGroup: 'GLOBAL',
})

export const clusterFlag = Flags.string({
  char: 'c',
  env: 'TELEPORT_CLUSTER',
  description: 'Cluster to reach [default: the profile\'s cluster]',
  helpGroup: 'GLOBAL',
})

export const ttlFlag = Flags.integer({
  description: 'Minutes the certificate stays valid [default: 720, capped by the roles\' max_session_ttl]',
  min: 1,
  helpGroup: 'GLOBAL',
})

export const insecureFlag = Flags.boolean({
  description: 'Do not verify the proxy\'s HTTPS certificate (a warning is printed; never use it in production)',
  helpGroup: 'GLOBAL',
})

/** --format text|json|yaml without importing lib/output (chalk, yaml) at start-up. */
export function dataFormatFlag(options: readonly string[] = ['text', 'json', 'yaml']) {
  return Flags.string({char: 'f', default: options[0], description: `Output format: ${options.join(', ')}`, options: [...options]})
}

/** JSON or YAML rendering, loading the YAML library only when asked for it. */
export async function renderDataLazy(format: string, data: () => unknown, text: () => string): Promise<string> {
  if (format === 'json') return toSafeJSON(data())
  if (format === 'yaml') return (await import('../lib/yaml-text.js')).toSafeYAML(data())
  return text()
}
