import {describe} from 'node:test'
import {MemoryBackend} from '../../../src/backend/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {backendConformance} from './conformance.js'

describe('MemoryBackend', () => {
  backendConformance(() => {
    const clock = new FakeClock()
    const backend = new MemoryBackend(clock)
    return {
      backend,
      clock,
      sweepExpired: () => void backend.sweepExpired(),
      compactChangeLog: (through) => backend.compactChangeLog(through),
      dispose: () => backend.close(),
    }
  })
})
