import {Flags} from '@oclif/core'
import chalk, {Chalk} from 'chalk'
import {safeText, toSafeJSON} from './safe-text.js'
import {toSafeYAML} from './yaml-text.js'

// Rendering for data commands: --format text|json|yaml, tables, colour only on a TTY and
// never with NO_COLOR. Progress and prompts go to stderr, never into data output.

export type OutputFormat = 'text' | 'json' | 'yaml'

export function formatFlag(options: readonly string[] = ['text', 'json', 'yaml']) {
  return Flags.string({
    char: 'f',
    default: options[0],
    description: `Output format: ${options.join(', ')}`,
    options: [...options],
  })
}

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return Boolean(stream.isTTY)
}

/** A chalk instance that is plain unless colour is allowed on this stream. */
export function colors(stream: NodeJS.WriteStream = process.stdout): typeof chalk {
  return new Chalk({level: colorEnabled(stream) ? chalk.level || 1 : 0})
}

/** Print data in the chosen format; `text` uses the command's own renderer. */
export function renderData(format: string, data: unknown, text: () => string): string {
  if (format === 'json') return toSafeJSON(data)
  if (format === 'yaml') return toSafeYAML(data)
  return text()
}

/** A plain-text table: header, dashes, rows; the last column is not padded. Cells are shown escaped (safeText). */
export function renderTable(headers: string[], cells: string[][]): string {
  // One pass to escape and measure, one to lay out: `tsh ls` of 10,000 nodes runs this cold.
  const widths = headers.map((h) => h.length)
  const rows: string[][] = new Array(cells.length)
  for (let r = 0; r < cells.length; r++) {
    const row = cells[r]!
    const safe: string[] = new Array(row.length)
    for (let i = 0; i < row.length; i++) {
      const cell = safeText(row[i] ?? '')
      safe[i] = cell
      if (cell.length > (widths[i] ?? 0)) widths[i] = cell.length
    }
    rows[r] = safe
  }
  const line = (row: string[]) => {
    let text = ''
    for (let i = 0; i < row.length; i++) text += i === row.length - 1 ? row[i] : row[i]!.padEnd(widths[i]!) + ' '
    return text.trimEnd() + '\n'
  }
  let out = line(headers) + line(widths.map((w) => '-'.repeat(w)))
  for (const row of rows) out += line(row)
  return out
}
