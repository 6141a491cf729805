import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {UsageError} from '../../../lib/errors.js'
import {withAuth} from '../../../tctl/connect.js'
import {authFlags, parseTtlFlag, splitList} from '../../../tctl/flags.js'
import {assertFree, writeFilesTogether, type OutputFile} from '../../../tctl/files.js'
import {formatIdentity} from '../../../api/identity-file.js'
import {generateKeyPair} from '../../../sshca/index.js'

export default class AuthSign extends BaseCommand {
  static override summary = 'Issue a user or host certificate for a key pair made here.'
  static override description =
    'Generates an Ed25519 key pair on this machine (the private key never leaves it) and has the auth service sign its public key.\n' +
    '--user: a user certificate for that cluster user (logins and TTL from the user\'s roles). ' +
    '--host: a host certificate for a plain OpenSSH server, with every comma-separated name as a principal (the first is the host ID).\n' +
    '--format=openssh (default) writes OUT (private key, mode 0600), OUT.pub and OUT-cert.pub, the names OpenSSH looks for: "ssh -i OUT" uses the certificate, ' +
    'and sshd takes "HostKey OUT" with "HostCertificate OUT-cert.pub". --format=file writes one identity file (key, certificate and host CAs), as "tctl --identity" and tsh read it.\n' +
    'Existing files are never replaced without --overwrite, and nothing is written unless every file can be.'
  static override examples = [
    '<%= config.bin %> auth sign --user=alice --out=alice --ttl=1h && ssh -i alice alice@node',
    '<%= config.bin %> auth sign --user=ci --format=file --out=ci.identity',
    '<%= config.bin %> auth sign --host=db1.example.com,10.0.0.5 --out=/etc/ssh/teleport_host_key',
  ]
  static override flags = {
    user: Flags.string({description: 'Cluster user to issue a user certificate for', exclusive: ['host']}),
    host: Flags.string({description: 'Comma-separated host names and addresses to issue a host certificate for', exclusive: ['user']}),
    out: Flags.string({char: 'o', description: 'Path to write (OUT, OUT.pub, OUT-cert.pub for openssh)', required: true}),
    format: Flags.string({description: 'Output format', options: ['openssh', 'file'], default: 'openssh'}),
    ttl: Flags.string({description: 'Certificate lifetime, e.g. 1h, 12h [default: user certificates 12h capped by roles; host certificates never expire]'}),
    overwrite: Flags.boolean({description: 'Replace existing output files'}),
    ...authFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AuthSign)
    if (!flags.user && !flags.host) throw new UsageError('give --user=NAME for a user certificate or --host=NAMES for a host certificate')
    const ttlMs = parseTtlFlag(flags.ttl)
    const hostNames = splitList(flags.host)
    if (flags.host !== undefined && hostNames.length === 0) throw new UsageError('--host needs at least one name')
    const out = path.resolve(flags.out)
    const paths = flags.format === 'file' ? [out] : [out, `${out}.pub`, `${out}-cert.pub`]
    assertFree(paths, flags.overwrite)
    const keys = generateKeyPair(flags.user ? `${flags.user}` : hostNames[0])
    const signed = await withAuth(flags, async (api) => {
      if (flags.user) {
        const cert = await api.signUserCert({username: flags.user, publicKey: keys.publicKey, ...(ttlMs !== undefined ? {ttlMs} : {})})
        return {certificate: cert.certificate, hostCAs: cert.hostCAs}
      }
      return api.signHostCert({hostId: hostNames[0]!, principals: hostNames, publicKey: keys.publicKey, ...(ttlMs !== undefined ? {ttlMs} : {})})
    })
    const files: OutputFile[] =
      flags.format === 'file'
        ? [{path: out, data: formatIdentity({privateKey: keys.privateKey, certificate: signed.certificate, hostCAs: signed.hostCAs}), mode: 0o600}]
        : [
            {path: out, data: keys.privateKey, mode: 0o600},
            {path: `${out}.pub`, data: keys.publicKey.trim() + '\n', mode: 0o644},
            {path: `${out}-cert.pub`, data: signed.certificate.trim() + '\n', mode: 0o644},
          ]
    writeFilesTogether(files, {overwrite: flags.overwrite})
    this.out(`The credentials have been written to ${files.map((f) => f.path).join(', ')}\n`)
  }
}
