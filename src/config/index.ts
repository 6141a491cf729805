// The daemon's configuration: teleport.yaml's schema and loader, the merge with
// `teleport start` flags into one resolved TeleportConfig, and the sample `teleport configure` prints.
export {loadConfigFile, parseConfig} from './load.js'
export {defaultConfigPath, loadTeleportConfig, mergeConfig, SYSTEM_CONFIG_PATH, type MergeOptions, type StartFlags} from './merge.js'
export {sampleConfig, type SampleOptions} from './sample.js'
export {
  DEFAULT_DATA_DIR,
  DEFAULT_PORTS,
  defaultFileConfig,
  LOG_SEVERITIES,
  schemaKeyPaths,
  SECOND_FACTORS,
  SESSION_RECORDING_MODES,
  TELEPORT_CONFIG_SCHEMA,
  type FileConfig,
  type LogSeverity,
  type SecondFactor,
  type SessionRecording,
} from './schema.js'
export type {TeleportConfig} from './teleport-config.js'
export {
  formatHostPort,
  parseCaPin,
  parseHostPort,
  parseLabelSpec,
  parseRoles,
  parseStaticToken,
  readValueOrFile,
  SERVICE_ROLES,
  TOKEN_ROLES,
  type CommandLabel,
  type HostPort,
  type LabelSpec,
  type ServiceRole,
  type StaticToken,
  type TokenRole,
} from './values.js'
