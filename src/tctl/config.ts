import path from 'node:path'
import {loadConfigFile} from '../config/load.js'
import {defaultConfigPath} from '../config/merge.js'
import type {HostPort} from '../config/values.js'
import {DEFAULT_DATA_DIR} from '../config/data-dir.js'

// What tctl needs from the daemon's config file (the same file and loader `teleport start`
// uses): where the data dir is, where the auth service listens, and the cluster's auth servers.

export interface TctlConfig {
  dataDir: string
  authListen: HostPort
  /** teleport.auth_servers: when set, tctl dials these (in turn) rather than the listen address. */
  authServers: HostPort[]
}

export const DEFAULT_TCTL_CONFIG: TctlConfig = {dataDir: DEFAULT_DATA_DIR, authListen: {host: '0.0.0.0', port: 3025}, authServers: []}

/**
 * The config file to read: -c when given, else the daemon's default (TELEPORT_CONFIG_FILE, else
 * /etc/teleport.yaml when it exists, else none).
 */
export function chooseConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? defaultConfigPath(env)
}

/** Reads the config file (undefined: none, the built-in defaults). */
export function loadTctlConfig(file: string | undefined): TctlConfig {
  if (!file) return {...DEFAULT_TCTL_CONFIG}
  const config = loadConfigFile(file)
  return {dataDir: path.resolve(config.teleport.data_dir), authListen: config.auth_service.listen_addr, authServers: config.teleport.auth_servers}
}
