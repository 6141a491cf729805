// Where a cluster's sessions are recorded (auth_service.session_recording, Teleport's modes): on
// the node, written locally and uploaded at the end (`node`) or streamed live (`node-sync`); on
// the proxy (`proxy`, `proxy-sync`); or not at all (`off`). Auth says it; nodes follow.
export const SESSION_RECORDING_MODES = ['node', 'node-sync', 'proxy', 'proxy-sync', 'off'] as const
export type SessionRecordingMode = (typeof SESSION_RECORDING_MODES)[number]

export function isSessionRecordingMode(value: unknown): value is SessionRecordingMode {
  return typeof value === 'string' && (SESSION_RECORDING_MODES as readonly string[]).includes(value)
}
