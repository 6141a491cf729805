import {existsSync} from 'node:fs'
import path from 'node:path'
import {tshHome} from '../tsh-home.js'

// Where tsh's config files are: the user's ~/.tsh/config/config.yaml and the site-wide one
// ($TELEPORT_GLOBAL_TSH_CONFIG, else /etc/tsh.yaml), merged under the user's. Light on purpose:
// every tsh start asks whether either exists before anything heavier is loaded.

export const SYSTEM_TSH_CONFIG = '/etc/tsh.yaml'

export interface TshConfigPaths {
  global: string
  user: string
}

export function tshConfigPaths(env: NodeJS.ProcessEnv = process.env): TshConfigPaths {
  return {
    global: env.TELEPORT_GLOBAL_TSH_CONFIG ? path.resolve(env.TELEPORT_GLOBAL_TSH_CONFIG) : SYSTEM_TSH_CONFIG,
    user: path.join(tshHome(env), 'config', 'config.yaml'),
  }
}

/** The config files that exist, site-wide first (the user's is merged over it). */
export function existingTshConfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const {global, user} = tshConfigPaths(env)
  return [global, user].filter((file) => existsSync(file))
}
