// The player's keys, read from a terminal in raw mode: space pauses and resumes, ←/↓ step back,
// →/↑ step forward, q, Ctrl-C and Ctrl-D quit. Arrows come as CSI (ESC [ D) or, in the
// terminal's application cursor mode, SS3 (ESC O D). Anything else is ignored.

export type PlayerCommand = 'pause' | 'back' | 'forward' | 'quit'

const SEQUENCES: readonly (readonly [string, PlayerCommand])[] = [
  ['\x1b[D', 'back'], ['\x1bOD', 'back'], ['\x1b[B', 'back'], ['\x1bOB', 'back'],
  ['\x1b[C', 'forward'], ['\x1bOC', 'forward'], ['\x1b[A', 'forward'], ['\x1bOA', 'forward'],
  [' ', 'pause'],
  ['q', 'quit'], ['Q', 'quit'], ['\x03', 'quit'], ['\x04', 'quit'],
]

/** The commands in one read from the terminal, in order. */
export function parseKeys(input: Buffer | string): PlayerCommand[] {
  const text = input.toString('latin1')
  const commands: PlayerCommand[] = []
  for (let at = 0; at < text.length;) {
    const found = SEQUENCES.find(([sequence]) => text.startsWith(sequence, at))
    if (found) {
      commands.push(found[1])
      at += found[0].length
    } else {
      at += 1
    }
  }
  return commands
}
