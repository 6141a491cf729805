import {execFile} from 'node:child_process'
import {systemClock, type Clock, type Timer} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {safeText} from '../../lib/safe-text.js'
import {formatDuration} from '../../services/duration.js'
import {MAX_LABEL_VALUE, type CommandLabel as CommandLabelRecord} from '../../services/nodes.js'
import type {CommandLabel} from '../../config/index.js'

// Command labels (`ssh_service.commands`): each command's argv re-run every period, its trimmed
// output the label's value. A command that fails or times out gives an "error: ..." value; it
// never takes the node down. A changed value is reported at once (the heartbeat re-announces).

/** A command runs for at most this long (or its period, if shorter). */
const MAX_RUN_MS = 30_000

export class CommandLabels {
  private readonly results = new Map<string, string>()
  private readonly timers = new Set<Timer>()
  private stopped = false

  constructor(
    private readonly commands: readonly CommandLabel[],
    private readonly onChange: () => void,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Runs every command once (so the first announcement carries values), then on their periods. */
  async start(): Promise<void> {
    await Promise.all(this.commands.map((label) => this.runOnce(label)))
    for (const label of this.commands) this.schedule(label)
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers) timer.cancel()
    this.timers.clear()
  }

  /** What the node record carries: {name: {command, period, result}}. */
  snapshot(): Record<string, CommandLabelRecord> {
    const out: Record<string, CommandLabelRecord> = {}
    for (const label of this.commands) {
      out[label.name] = {command: [...label.command], period: formatDuration(label.periodMs), result: this.results.get(label.name) ?? ''}
    }
    return out
  }

  private schedule(label: CommandLabel): void {
    if (this.stopped) return
    const timer = this.clock.setTimer(label.periodMs, () => {
      this.timers.delete(timer)
      void this.runOnce(label).finally(() => this.schedule(label))
    }, {unref: true})
    this.timers.add(timer)
  }

  private async runOnce(label: CommandLabel): Promise<void> {
    const value = await runCommand(label.command, Math.min(MAX_RUN_MS, Math.max(label.periodMs, 1000)))
    if (this.stopped) return
    const previous = this.results.get(label.name)
    this.results.set(label.name, value)
    if (value.startsWith('error: ') && previous !== value) this.log.warn(`command label "${label.name}" (${label.command.join(' ')}) failed: ${value.slice(7)}`)
    if (previous !== undefined && previous !== value) this.onChange()
  }
}

/**
 * The command's trimmed stdout, or "error: <why>". Never rejects. Values are labels, not logs:
 * control characters are escaped (auth refuses them) and longer output is cut.
 */
export function runCommand(argv: readonly string[], timeoutMs: number): Promise<string> {
  const [file, ...args] = argv
  if (!file) return Promise.resolve('error: empty command')
  return new Promise<string>((settle) => {
    const resolve = (value: string) => settle(safeText(value).slice(0, MAX_LABEL_VALUE))
    try {
      execFile(file, args, {timeout: timeoutMs, maxBuffer: 1024 * 1024, windowsHide: true}, (err, stdout) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & {killed?: boolean; code?: unknown}
          if (e.code === 'ENOENT') return resolve(`error: command not found: ${file}`)
          if (e.killed) return resolve(`error: timed out after ${formatDuration(timeoutMs)}`)
          return resolve(`error: exit status ${String(e.code ?? 'unknown')}`)
        }
        resolve(String(stdout).trim())
      })
    } catch (err) {
      resolve(`error: ${(err as Error).message}`)
    }
  })
}
