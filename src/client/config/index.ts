import {existingTshConfigFiles} from './paths.js'
import {EMPTY_TSH_CONFIG, type TshConfig} from './schema.js'

// tsh's config for commands: the merged files, with conf and the YAML loader imported only when
// a file exists (most runs have none, and start-up is measured).

export type {KeyStoreMode, TshConfig} from './schema.js'

export async function readTshConfig(env: NodeJS.ProcessEnv = process.env): Promise<TshConfig> {
  if (existingTshConfigFiles(env).length === 0) return EMPTY_TSH_CONFIG
  return (await import('./load.js')).loadTshConfig(env)
}
