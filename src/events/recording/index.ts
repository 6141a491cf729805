// Session recordings on disk: the events, the writer, the streaming reader, crash recovery and
// the asciicast export. The format is docs/RECORDING.md.
export * from './events.js'
export {RecordingDamagedError} from './damage.js'
export {RecordingWriter, DEFAULT_CHUNK_BYTES, DEFAULT_FLUSH_INTERVAL_MS, type RecordingWriterOptions} from './writer.js'
export {RecordingReader, type ReadOptions} from './reader.js'
export {recoverRecording, type RecoveredRecording} from './recover.js'
export {toAsciicast} from './asciicast.js'
