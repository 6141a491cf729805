import os from 'node:os'
import path from 'node:path'

// Where tsh keeps its files. Its own tiny module: the entrypoint asks it on every tsh start
// (is there a config file with aliases?), before anything else is loaded.

/** $TELEPORT_HOME, else ~/.tsh (with ~ from $HOME). */
export function tshHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TELEPORT_HOME) return path.resolve(env.TELEPORT_HOME)
  return path.join(env.HOME || os.homedir(), '.tsh')
}
