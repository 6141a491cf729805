import type {ArgvHook, CommandModules} from '../lib/cli/entry.js'

// Every command, by its full id ("tsh:proxy:ssh"), loaded only when it runs: the build bundles
// each into its own chunk, so a tool starts by reading the command it was asked for and no other.
// A test checks this list against the files under src/commands/.

export const COMMAND_MODULES: CommandModules = {
  'tctl:auth:export': () => import('./tctl/auth/export.js'),
  'tctl:auth:rotate': () => import('./tctl/auth/rotate.js'),
  'tctl:auth:sign': () => import('./tctl/auth/sign.js'),
  'tctl:completion': () => import('./tctl/completion.js'),
  'tctl:create': () => import('./tctl/create.js'),
  'tctl:events:ls': () => import('./tctl/events/ls.js'),
  'tctl:get': () => import('./tctl/get.js'),
  'tctl:lock': () => import('./tctl/lock.js'),
  'tctl:nodes:ls': () => import('./tctl/nodes/ls.js'),
  'tctl:rm': () => import('./tctl/rm.js'),
  'tctl:status': () => import('./tctl/status.js'),
  'tctl:tokens:add': () => import('./tctl/tokens/add.js'),
  'tctl:tokens:ls': () => import('./tctl/tokens/ls.js'),
  'tctl:tokens:rm': () => import('./tctl/tokens/rm.js'),
  'tctl:users:add': () => import('./tctl/users/add.js'),
  'tctl:users:ls': () => import('./tctl/users/ls.js'),
  'tctl:users:reset': () => import('./tctl/users/reset.js'),
  'tctl:users:rm': () => import('./tctl/users/rm.js'),
  'tctl:users:update': () => import('./tctl/users/update.js'),
  'tctl:version': () => import('./tctl/version.js'),
  'teleport:completion': () => import('./teleport/completion.js'),
  'teleport:configure': () => import('./teleport/configure.js'),
  'teleport:start': () => import('./teleport/start.js'),
  'teleport:version': () => import('./teleport/version.js'),
  'tsh:agent': () => import('./tsh/agent.js'),
  'tsh:bench': () => import('./tsh/bench.js'),
  'tsh:completion': () => import('./tsh/completion.js'),
  'tsh:config': () => import('./tsh/config.js'),
  'tsh:env': () => import('./tsh/env.js'),
  'tsh:join': () => import('./tsh/join.js'),
  'tsh:login': () => import('./tsh/login.js'),
  'tsh:logout': () => import('./tsh/logout.js'),
  'tsh:ls': () => import('./tsh/ls.js'),
  'tsh:play': () => import('./tsh/play.js'),
  'tsh:proxy:ssh': () => import('./tsh/proxy/ssh.js'),
  'tsh:recordings:download': () => import('./tsh/recordings/download.js'),
  'tsh:recordings:export': () => import('./tsh/recordings/export.js'),
  'tsh:recordings:ls': () => import('./tsh/recordings/ls.js'),
  'tsh:scp': () => import('./tsh/scp.js'),
  'tsh:sessions:ls': () => import('./tsh/sessions/ls.js'),
  'tsh:ssh': () => import('./tsh/ssh.js'),
  'tsh:status': () => import('./tsh/status.js'),
  'tsh:version': () => import('./tsh/version.js'),
}

/** tsh expands aliases from its config file before oclif parses (a few existsSync without one). */
export const ARGV_HOOKS: Partial<Record<'tsh', ArgvHook>> = {
  tsh: async (argv, commandIds) => (await import('../client/config/argv.js')).expandTshArgv(argv, commandIds),
}
