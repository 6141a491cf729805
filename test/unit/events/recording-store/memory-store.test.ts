import {describe} from 'node:test'
import {MemoryRecordingStore} from '../../../../src/events/recording-store/index.js'
import {recordingStoreConformance} from './conformance.js'

describe('MemoryRecordingStore', () => {
  recordingStoreConformance(() => ({store: new MemoryRecordingStore(), dispose: async () => {}}), {inMemory: true})
})
