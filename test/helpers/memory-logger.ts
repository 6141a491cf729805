import type {Logger} from '../../src/lib/log.js'

/** A Logger that keeps its lines as "<SEVERITY> <message>" for tests to read. */
export function memoryLogger(): Logger & {lines: string[]} {
  const lines: string[] = []
  const at = (severity: string) => (message: string) => void lines.push(`${severity} ${message}`)
  const logger: Logger = {debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR'), child: () => logger}
  return Object.assign(logger, {lines})
}
