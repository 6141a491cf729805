// The OpenSSH side of the proxy benchmarks: a target sshd and a bastion sshd that trust the bench
// cluster's user CA and present a host certificate from its host CA, and one ssh_config for every
// OpenSSH run (so ProxyJump's inner ssh gets the same settings). Both sshds log at INFO (as our
// daemon does) and take up to SSHD_MAX_STARTUPS unauthenticated connections at once: sshd's
// default MaxStartups (10:30:100) drops connections from the 11th pending one on, which would
// make the concurrent bench measure refusals rather than OpenSSH.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {startSshd} from '../test/interop/helpers.js'
import {LOGIN, must, tctl, type BenchCluster} from './cluster.js'

export const SSHD_MAX_STARTUPS = 4096

export interface OpenSshSide {
  targetPort: number
  bastionPort: number
  /** `ssh -F <config>`. */
  ssh: string
  /** The same as an argument vector. */
  sshArgv: string[]
  /** What the target and the bastion sshd logged. */
  logs(): string
}

export async function startOpenSshSide(cluster: BenchCluster, stops: Array<() => Promise<unknown>>): Promise<OpenSshSide> {
  const {dir, config} = cluster
  must(tctl, ['-c', config, 'auth', 'sign', '--host=localhost,127.0.0.1', `--out=${path.join(dir, 'host')}`])
  const userCA = must(tctl, ['-c', config, 'auth', 'export', '--type=user']).split('\n').filter(Boolean)
  const hostCALine = must(tctl, ['-c', config, 'auth', 'export', '--type=host']).trim()

  const sshd = {trustedUserCAKeys: userCA, hostKeyPath: path.join(dir, 'host'), hostCertPath: path.join(dir, 'host-cert.pub'), logLevel: 'INFO', extraConfig: [`MaxStartups ${SSHD_MAX_STARTUPS}`]}
  const target = await startSshd({dir, ...sshd})
  stops.push(() => target.stop())
  const bastionDir = path.join(dir, 'bastion')
  mkdirSync(bastionDir)
  const bastion = await startSshd({dir: bastionDir, ...sshd})
  stops.push(() => bastion.stop())

  const sshConfig = path.join(dir, 'ssh_config')
  writeFileSync(path.join(dir, 'known_hosts'), hostCALine + '\n')
  writeFileSync(sshConfig, [
    'Host *',
    '  BatchMode yes', '  StrictHostKeyChecking yes', `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`, '  GlobalKnownHostsFile /dev/null',
    `  IdentityFile ${path.join(dir, 'bench')}`, `  CertificateFile ${path.join(dir, 'bench-cert.pub')}`, '  IdentitiesOnly yes', '  IdentityAgent none',
    `  User ${LOGIN}`, '  LogLevel ERROR', '',
  ].join('\n'))
  return {targetPort: target.port, bastionPort: bastion.port, ssh: `ssh -F ${sshConfig}`, sshArgv: ['ssh', '-F', sshConfig], logs: () => `target:\n${target.logs()}\nbastion:\n${bastion.logs()}`}
}
