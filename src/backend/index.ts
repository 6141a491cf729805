// The storage layer's public face: the Backend interface, its implementations, and a factory
// that turns configuration into one.
import {systemClock, type Clock} from '../lib/clock.js'
import type {Backend} from './backend.js'
import {MemoryBackend} from './memory.js'
import {SqliteBackend} from './sqlite.js'

export * from './backend.js'
export {MemoryBackend, type MemoryBackendOptions} from './memory.js'
export {SqliteBackend, type SqliteBackendOptions} from './sqlite.js'

export type BackendConfig = {type: 'sqlite'; path: string} | {type: 'memory'}

export function openBackend(config: BackendConfig, clock: Clock = systemClock): Backend {
  switch (config.type) {
    case 'sqlite':
      return SqliteBackend.open(config.path, clock)
    case 'memory':
      return new MemoryBackend(clock)
  }
}
