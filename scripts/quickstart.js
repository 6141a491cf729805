#!/usr/bin/env node
// npm run quickstart: a one-process cluster (auth + proxy + node) on the embedded store in
// ./quickstart/, on loopback, without root; prints the next steps, then runs until Ctrl-C.
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const dir = path.join(root, 'quickstart')
const config = path.join(dir, 'teleport.yaml')
const nodename = hostname().split('.')[0] || 'localhost'
const login = userInfo().username

mkdirSync(dir, {recursive: true, mode: 0o700})
if (!existsSync(config)) {
  writeFileSync(
    config,
    [
      '# Written by `npm run quickstart`: a one-process cluster on loopback. Edit freely.',
      'version: v3',
      'teleport:',
      `  nodename: ${nodename}`,
      `  data_dir: ${path.join(dir, 'data')}`,
      'auth_service:',
      '  enabled: yes',
      '  listen_addr: 127.0.0.1:3025',
      '  cluster_name: quickstart.local',
      'proxy_service:',
      '  enabled: yes',
      '  listen_addr: 127.0.0.1:3023',
      '  web_listen_addr: 127.0.0.1:3080',
      '  tunnel_listen_addr: 127.0.0.1:3024',
      '  public_addr: localhost:3080',
      'ssh_service:',
      '  enabled: yes',
      '  listen_addr: 127.0.0.1:3022',
      '  labels: {env: quickstart}',
      '',
    ].join('\n'),
    {mode: 0o600},
  )
}

const bin = path.join(root, 'bin')
process.stdout.write(`
Starting a one-process Teleport cluster (auth + proxy + node) from ${path.relative(process.cwd(), config) || config}.
When it logs "Node service is starting", in another terminal in ${root}:

  export PATH="${bin}:$PATH" TELEPORT_CONFIG_FILE="${config}"
  tctl users add alice --roles=access --logins=${login}
      # open the printed link (https://localhost:3080/web/invite/...; the certificate is
      # self-signed), choose a password and add the QR code or secret to an authenticator app
  tsh login --proxy=localhost:3080 --insecure --user=alice
  tsh ls
  tsh ssh ${login}@${nodename} id

Stop the cluster with Ctrl-C; its state stays in ${path.join(dir, 'data')}.

`)
const child = spawn(path.join(bin, 'teleport'), ['start', '--config', config], {stdio: 'inherit'})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
