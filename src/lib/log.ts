import {appendFileSync} from 'node:fs'
import {safeText} from './safe-text.js'

// The daemon's log: one line per message, `time SEVERITY [COMPONENT] message`, like Teleport's.
// Messages carry names others chose (hostnames, user names, key ids): control characters are
// escaped so that no value can start a forged line or drive the terminal reading the log.

export type Severity = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'
const ORDER: Record<Severity, number> = {DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3}

export interface Logger {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
  child(component: string): Logger
}

export function createLogger(options: {output: string; severity: Severity}, component = 'PROC'): Logger {
  const write = (line: string) => {
    if (options.output === 'stderr') process.stderr.write(line)
    else if (options.output === 'stdout') process.stdout.write(line)
    else appendFileSync(options.output, line, {mode: 0o600})
  }
  const emit = (severity: Severity, message: string) => {
    if (ORDER[severity] < ORDER[options.severity]) return
    write(`${new Date().toISOString()} ${severity.padEnd(5)} [${safeText(component)}] ${safeText(message)}\n`)
  }
  return {
    debug: (m) => emit('DEBUG', m),
    info: (m) => emit('INFO', m),
    warn: (m) => emit('WARN', m),
    error: (m) => emit('ERROR', m),
    child: (c) => createLogger(options, c),
  }
}
