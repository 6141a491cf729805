import type {Logger} from '../../src/lib/log.js'

export interface MemoryLoggerOptions {
  /** Written as "[COMPONENT]" after the severity (children by their own name); none by default. */
  component?: string
  /** Where the lines go (shared between loggers, or read by the test); a new array by default. */
  lines?: string[]
}

/**
 * The tests' Logger: keeps its lines as "<SEVERITY> [<component>] <message>" (no brackets without
 * a component) for assertions, and prints them too when NODE_TEST_LOG is set.
 */
export function memoryLogger(options: MemoryLoggerOptions = {}): Logger & {lines: string[]} {
  const lines = options.lines ?? []
  const make = (component: string | undefined): Logger => {
    const emit = (severity: string) => (message: string) => {
      const line = component === undefined ? `${severity} ${message}` : `${severity} [${component}] ${message}`
      lines.push(line)
      if (process.env.NODE_TEST_LOG) process.stderr.write(line + '\n')
    }
    return {debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR'), child: (name) => make(component === undefined ? undefined : name)}
  }
  return Object.assign(make(options.component), {lines})
}
