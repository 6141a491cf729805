// The bundle bin/run.js loads: the entrypoint, oclif and our code in a few files instead of some
// three hundred, so start-up reads little and resolves almost nothing. Each command is its own
// chunk (COMMAND_MODULES imports them lazily), so a tool evaluates only the command it runs.
// Packages we depend on stay outside (native addons, ssh2 whose internals src/ssh requires by
// path, and code only some commands load), except the pure-JS ones nearly every run loads.
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {build} from 'esbuild'

// @oclif/core runs every command; chalk and yaml are imported by lib/output.ts (every tctl command).
const INLINED = new Set(['@oclif/core', 'chalk', 'yaml'])

// What oclif requires at load but never calls for us: semver (its engines check, compiled out
// below), tinyglobby (finding commands by file pattern; ours are listed), minimatch (plugin name
// patterns; we have no plugins) and cli-spinners (ux.action, unused). Left out, they are not parsed
// at every start; should oclif ever call one, it fails saying so.
const LEFT_OUT = ['semver', 'tinyglobby', 'minimatch', 'cli-spinners']

const leaveOut = {
  name: 'leave-out',
  setup(build) {
    const filter = new RegExp(`^(${LEFT_OUT.join('|')})$`)
    build.onResolve({filter}, (args) => (args.importer.includes('/@oclif/core/') ? {path: args.path, namespace: 'left-out'} : undefined))
    build.onLoad({filter: /.*/, namespace: 'left-out'}, (args) => ({
      contents: `module.exports = new Proxy({}, {get: (_, key) => key === '__esModule' || key === 'default' ? undefined : () => { throw new Error(${JSON.stringify(`${args.path} is left out of the bundle (scripts/bundle.js)`)}) }})`,
      loader: 'js',
    }))
  },
}

export async function bundle(root) {
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))
  rmSync(path.join(root, 'dist', 'bundle'), {recursive: true, force: true})
  await build({
    absWorkingDir: root,
    entryPoints: {
      // entry.ts names help.js and not-found-hook.js as its siblings, for oclif to import.
      entry: 'src/lib/cli/entry.ts',
      help: 'src/lib/cli/help.ts',
      'not-found-hook': 'src/lib/cli/not-found-hook.ts',
      commands: 'src/commands/index.ts',
    },
    // dist/bundle sits as deep as dist/lib, so package.json is found at the same relative path.
    outdir: 'dist/bundle',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // typescript: oclif reads a tsconfig only when run from TypeScript sources, never from here.
    external: [...Object.keys(pjson.dependencies).filter((name) => !INLINED.has(name)), 'typescript'],
    // oclif is CommonJS: its require() of node built-ins needs a real require in an ES module.
    banner: {js: "import {createRequire as __bundleRequire} from 'node:module'; const require = __bundleRequire(import.meta.url);"},
    // oclif checks that node satisfies its own engines range by loading all of semver (some fifty
    // modules) on every start; npm checks ours, against package.json's "engines", at install.
    define: {'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"true"'},
    plugins: [leaveOut],
    logLevel: 'warning',
  })
}
