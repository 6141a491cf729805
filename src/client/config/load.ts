import path from 'node:path'
import Conf from 'conf'
import {stringify} from 'yaml'
import {parseWithSpec} from '../../config/load.js'
import {fileError} from '../../lib/file-errors.js'
import {existingTshConfigFiles} from './paths.js'
import {EMPTY_TSH_CONFIG, mergeTshConfigs, TSH_CONFIG_SCHEMA, type TshConfig, type TshConfigFile} from './schema.js'

// Reads tsh's config files through `conf` with a YAML serializer. The schema check is ours
// (parseWithSpec, as teleport.yaml's), not conf's ajv: a refusal is one line naming the file, the
// line and the key. Import this only when a file exists (paths.ts): conf and ajv cost start-up.

/** One file through conf; BadParameterError "<file>:<line>: ..." when it is not valid. */
export function readTshConfigFile(file: string): TshConfigFile {
  const ext = path.extname(file)
  try {
    const conf = new Conf<TshConfigFile>({
      cwd: path.dirname(file),
      configName: path.basename(file, ext),
      fileExtension: ext.slice(1),
      serialize: (value) => stringify(value),
      deserialize: (text) => parseWithSpec(text, file, TSH_CONFIG_SCHEMA),
      clearInvalidConfig: false,
    })
    return conf.store
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw fileError(err, file, {noun: 'tsh config file'})
    throw err
  }
}

/** The site-wide file, then the user's over it; empty when there is neither. */
export function loadTshConfig(env: NodeJS.ProcessEnv = process.env): TshConfig {
  const files = existingTshConfigFiles(env)
  if (files.length === 0) return EMPTY_TSH_CONFIG
  return mergeTshConfigs(files.map(readTshConfigFile))
}
