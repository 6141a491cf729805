import path from 'node:path'

// How to run this same tsh again: for `tsh config`'s ProxyCommand and for `tsh agent`'s
// background child. process.argv[1] is the link the user ran (bin/tsh, an npm shim, or
// bin/run.js with "tsh" as first argument); it is made absolute but not resolved through the
// link, because the link's name is what selects the tsh personality.

export interface TshInvocation {
  /** Absolute path of the script the user ran. */
  script: string
  /** Arguments to put before tsh's own ("tsh" when run through bin/run.js). */
  prefixArgs: string[]
}

export function tshInvocation(argv1: string = process.argv[1] ?? 'tsh'): TshInvocation {
  const script = path.resolve(argv1)
  const name = path.basename(script).replace(/\.(c|m)?js$/, '')
  return {script, prefixArgs: name === 'tsh' ? [] : ['tsh']}
}

/** The quoted command for ssh_config: "\"/path/bin/tsh\"" or "\"/path/bin/run.js\" tsh". */
export function tshCommandForSshConfig(inv: TshInvocation = tshInvocation()): string {
  return [`"${inv.script}"`, ...inv.prefixArgs].join(' ')
}
