// The storage layer's public face: the Backend interface, its implementations, and a factory
// that turns configuration into one.
import {systemClock, type Clock} from '../lib/clock.js'
import type {Backend} from './backend.js'
import type {EtcdBackendConfig} from './etcd-client.js'
import {MemoryBackend} from './memory.js'
import {SqliteBackend} from './sqlite.js'

export * from './backend.js'
export {MemoryBackend, type MemoryBackendOptions} from './memory.js'
export {SqliteBackend, type SqliteBackendOptions} from './sqlite.js'
export type {EtcdBackendConfig} from './etcd-client.js'

export type BackendConfig = {type: 'sqlite'; path: string} | {type: 'memory'} | EtcdBackendConfig

/** Opens the backend `config` names; etcd is reached once here, so a wrong address fails now. */
export async function openBackend(config: BackendConfig, clock: Clock = systemClock): Promise<Backend> {
  switch (config.type) {
    case 'etcd': {
      // Loaded only when configured: the gRPC client is a large import every CLI start would pay.
      const {EtcdBackend} = await import('./etcd.js')
      return EtcdBackend.open(config, clock)
    }
    case 'sqlite':
      return SqliteBackend.open(config.path, clock)
    case 'memory':
      return new MemoryBackend(clock)
  }
}
