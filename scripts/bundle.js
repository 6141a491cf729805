// The bundle bin/run.js loads: the entrypoint, oclif and our code in a few files instead of some
// three hundred, so start-up reads little and resolves almost nothing. Each command is its own
// chunk (COMMAND_MODULES imports them lazily), so a tool evaluates only the command it runs.
// Packages we depend on stay outside (native addons, and code only some commands load), except
// @oclif/core, which every run needs.
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {build} from 'esbuild'

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
    external: [...Object.keys(pjson.dependencies).filter((name) => name !== '@oclif/core'), 'typescript'],
    // oclif is CommonJS: its require() of node built-ins needs a real require in an ES module.
    banner: {js: "import {createRequire as __bundleRequire} from 'node:module'; const require = __bundleRequire(import.meta.url);"},
    // oclif checks that node satisfies its own engines range by loading all of semver (some fifty
    // modules) on every start; npm checks ours, against package.json's "engines", at install.
    define: {'process.env.OCLIF_DISABLE_ENGINE_WARNING': '"true"'},
    logLevel: 'warning',
  })
}
