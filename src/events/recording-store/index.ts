// Session recordings as auth stores them: the RecordingStore seam, its file store and memory twin.
export {checkSessionId, type CompleteRequest, type RecordingStat, type RecordingStore} from './recording-store.js'
export {FileRecordingStore, recordingsDir} from './file-store.js'
export {MemoryRecordingStore} from './memory-store.js'
