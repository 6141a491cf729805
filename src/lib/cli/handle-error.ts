import {Errors} from '@oclif/core'
import {isUserError} from '../errors.js'
import {safeLines, safeText} from '../safe-text.js'

// The one place errors become output: one line on stderr and an exit code.
// User errors exit 1, usage errors exit 2, anything unexpected is a bug: its message plus a
// pointer to --debug, and the stack only with --debug (never for command-line parse errors).

export interface ErrorReport {
  line: string
  /** Printed instead of the line: a user error's own layout (UserError.details), already escaped. */
  details?: string
  exitCode: number
  stack?: string
}

function isParseError(err: unknown): err is Errors.CLIError {
  // oclif's flag and argument parser errors all derive from CLIParseError.
  return err instanceof Errors.CLIError && typeof (err as {parse?: unknown}).parse === 'object'
}

/** The report for an error; escaped, as messages carry names from the network (node hostnames). */
export function describeError(err: unknown, debug: boolean): ErrorReport | undefined {
  const report = describe(err, debug)
  if (!report) return undefined
  return {...report, line: safeText(report.line), ...(report.stack ? {stack: safeLines(report.stack)} : {})}
}

/**
 * oclif's messages span lines ("Parsing --uses", then the reason after a tab, sometimes a literal
 * "\\t", then "See more help with --help"): one line, the reason kept.
 */
function oclifMessage(message: string): string {
  return message
    .split('\n')
    .map((s) => s.replace(/^(\\t)+/, '').trim())
    .filter((s) => s && !s.startsWith('See more help'))
    .join(' ')
}

function describe(err: unknown, debug: boolean): ErrorReport | undefined {
  if (err instanceof Errors.ExitError) return undefined
  if (isUserError(err)) {
    const line = err.hint ? `ERROR: ${err.message} (${err.hint})` : `ERROR: ${err.message}`
    return {line, ...(err.details ? {details: err.details} : {}), exitCode: err.exitCode, stack: debug ? err.stack : undefined}
  }
  if (isParseError(err)) {
    // A mistyped command line is not a bug: no stack, even with -d (`teleport start -d DIR`).
    return {line: `ERROR: ${oclifMessage(err.message)} (see --help)`, exitCode: 2}
  }
  if (err instanceof Errors.CLIError) {
    const exit = err.oclif?.exit ?? 1
    return {line: `ERROR: ${oclifMessage(err.message)}`, exitCode: exit, stack: debug ? err.stack : undefined}
  }
  const message = err instanceof Error ? err.message : String(err)
  return {
    line: debug ? `ERROR: ${message}` : `ERROR: ${message.split('\n')[0]} (unexpected; run with --debug for details)`,
    exitCode: 1,
    stack: debug && err instanceof Error ? err.stack : undefined,
  }
}

/** Debug output is asked for with -d/--debug before any `--`, or TELEPORT_DEBUG=1. */
export function debugRequested(argv: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.TELEPORT_DEBUG === '1' || env.TELEPORT_DEBUG === 'true') return true
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--debug' || arg === '-d') return true
  }
  return false
}

export function reportError(err: unknown, debug: boolean): number {
  const report = describeError(err, debug)
  if (!report) return (err as Errors.ExitError).oclif?.exit ?? 0
  process.stderr.write(report.details ?? report.line + '\n')
  if (report.stack) process.stderr.write(report.stack + '\n')
  return report.exitCode
}
