import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import type {CommandInfo, FlagInfo} from './command-tree.js'
import {TOOLS, type ToolName} from './tools.js'

// Man pages generated from the commands' own metadata: one page per tool (tsh.1) and one per
// command (tsh-version.1, tctl-users-add.1). Never edited by hand.

function esc(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n')
}

function flagLabel(flag: FlagInfo): string {
  const names = [flag.char ? `\\-${flag.char}` : '', `\\-\\-${esc(flag.name)}`].filter(Boolean).join(', ')
  const value = flag.takesValue ? (flag.options ? ` \\fI${flag.options.map(esc).join('|')}\\fR` : ' \\fIvalue\\fR') : ''
  return `\\fB${names}\\fR${value}`
}

function header(name: string, date: string, version: string): string[] {
  return [`.TH ${esc(name.toUpperCase())} 1 "${date}" "Teleport ${version}" "Teleport Manual"`]
}

export function commandPage(tool: ToolName, command: CommandInfo, date: string, version: string): string {
  const name = `${tool}-${command.path.replaceAll(' ', '-')}`
  const lines = [...header(name, date, version), '.SH NAME', `${esc(name)} \\- ${esc(command.summary)}`, '.SH SYNOPSIS', `.B ${esc(command.usage)}`]
  if (command.description) lines.push('.SH DESCRIPTION', esc(command.description).replaceAll('\n', '\n.PP\n'))
  if (command.args.length) {
    lines.push('.SH ARGUMENTS')
    for (const arg of command.args) lines.push('.TP', `\\fI${esc(arg.name.toUpperCase())}\\fR`, esc(arg.description ?? ''))
  }
  lines.push('.SH OPTIONS')
  for (const flag of command.flags) {
    const extra = flag.default !== undefined && flag.default !== false ? ` (default: ${esc(String(flag.default))})` : ''
    lines.push('.TP', flagLabel(flag), esc(flag.summary ?? '') + extra)
  }
  if (command.examples.length) {
    lines.push('.SH EXAMPLES')
    for (const example of command.examples) lines.push('.PP', '.nf', `.RS 4`, esc(example), '.RE', '.fi')
  }
  lines.push('.SH SEE ALSO', `\\fB${tool}\\fR(1)`)
  return lines.join('\n') + '\n'
}

export function toolPage(tool: ToolName, commands: CommandInfo[], date: string, version: string): string {
  const lines = [
    ...header(tool, date, version),
    '.SH NAME',
    `${tool} \\- ${esc(TOOLS[tool].summary)}`,
    '.SH SYNOPSIS',
    `.B ${tool}`,
    '\\fICOMMAND\\fR [\\fIFLAGS\\fR]',
    '.SH DESCRIPTION',
    esc(TOOLS[tool].summary),
    '.PP',
    `Run \\fB${tool} COMMAND \\-\\-help\\fR for a command's flags and examples.`,
    '.SH COMMANDS',
  ]
  for (const command of commands) lines.push('.TP', `\\fB${esc(command.path)}\\fR`, esc(command.summary))
  lines.push(
    '.SH SHELL COMPLETION',
    '.nf',
    `.RS 4`,
    esc(`echo 'source <(${tool} completion bash)' >> ~/.bashrc`),
    esc(`echo 'source <(${tool} completion zsh)' >> ~/.zshrc`),
    '.RE',
    '.fi',
    '.SH SEE ALSO',
    commands.map((c) => `\\fB${tool}\\-${esc(c.path.replaceAll(' ', '-'))}\\fR(1)`).join(', '),
  )
  return lines.join('\n') + '\n'
}

/** Rewrite man/ from scratch; returns the file names, sorted, relative to the package root. */
export function writeManPages(root: string, tools: Map<ToolName, CommandInfo[]>, version: string, date: string): string[] {
  const dir = path.join(root, 'man')
  mkdirSync(dir, {recursive: true})
  for (const old of readdirSync(dir)) if (old.endsWith('.1')) rmSync(path.join(dir, old))
  const written: string[] = []
  for (const [tool, commands] of tools) {
    writeFileSync(path.join(dir, `${tool}.1`), toolPage(tool, commands, date, version))
    written.push(`man/${tool}.1`)
    for (const command of commands) {
      const file = `${tool}-${command.path.replaceAll(' ', '-')}.1`
      writeFileSync(path.join(dir, file), commandPage(tool, command, date, version))
      written.push(`man/${file}`)
    }
  }
  return written.sort()
}
