import {tshAgentSocket} from './agent/teleport-keys.js'
import {proxySshAddress} from './connect/identity.js'
import {keyPathsIn} from './key-store.js'
import type {Profile} from './profile.js'
import {formatHostPort, proxyHostOf} from './proxy-addr.js'

// `tsh config`: an ssh_config block that lets stock OpenSSH reach the cluster's nodes through
// the proxy with the files tsh keeps (known_hosts with the host CA, key and certificate), and
// `tsh proxy ssh` as the ProxyCommand; OpenSSH's own ProxyJump to the proxy's SSH port is offered
// as a commented alternative (the proxy takes direct-tcpip channels with the same certificate).
// ssh reads the key files before its ProxyCommand runs, so when that logs in again (an expired
// certificate) ssh still holds the old certificate; with no ssh-agent of the user's own, the Match
// block points ssh at tsh agent, which the login on demand starts and which ssh asks only once it
// authenticates, after the login. In recording proxy mode the proxy connects on to the node with
// the certificate the forwarded agent offers, so the block forwards the agent (the login's ping said
// the cluster records at the proxy).

export function renderSshConfig(opts: {profile: Profile; home: string; tshCommand: string}): string {
  const {profile, home} = opts
  const proxy = proxyHostOf(profile.webProxyAddr)
  const cluster = profile.cluster
  const p = keyPathsIn(home, proxy, profile.user, cluster)
  return [
    `# Begin generated Teleport configuration for ${proxy} by tsh`,
    '',
    `# Common flags for all ${cluster} hosts`,
    `Host *.${cluster} ${proxy}`,
    `    UserKnownHostsFile "${p.knownHostsPath}"`,
    `    IdentityFile "${p.keyPath}"`,
    `    CertificateFile "${p.certPath}"`,
    '',
    `# Flags for all ${cluster} hosts except the proxy`,
    `Host *.${cluster} !${proxy}`,
    '    Port 3022',
    `    ProxyCommand ${opts.tshCommand} proxy ssh --cluster=${cluster} --proxy=${profile.webProxyAddr} %r@%h:%p`,
    '    # Or without tsh: OpenSSH\'s ProxyJump through the proxy (comment out the ProxyCommand above)',
    `    # ProxyJump ${profile.user}@${formatHostPort(proxySshAddress(profile))}`,
    '',
    `# With no ssh-agent of your own: tsh agent, so a login on demand reaches this ssh`,
    `Match host "*.${cluster},!${proxy}" exec "test -z $SSH_AUTH_SOCK"`,
    `    IdentityAgent "${tshAgentSocket(home)}"`,
    ...(profile.recordingProxy ? [`    ForwardAgent "${tshAgentSocket(home)}"`] : []),
    '',
    // ssh takes the first value it reads: the Match block's socket, else your own agent.
    ...(profile.recordingProxy
      ? ['# Sessions are recorded at the proxy, which logs in to the node with your forwarded agent', `Host *.${cluster} !${proxy}`, '    ForwardAgent yes', '']
      : []),
    '# End generated Teleport configuration',
    '',
  ].join('\n')
}
