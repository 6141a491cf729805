import {existsSync} from 'node:fs'
import {systemClock, type Clock} from '../lib/clock.js'
import {quietly, type ShowWaiting} from '../lib/progress/spinner.js'
import {createLogger, type Logger} from '../lib/log.js'
import {startAuthService, type RunningAuthService} from './auth/auth-service.js'
import {localAccess} from './auth/local-access.js'
import {prepareDataDir} from './common/data-dir.js'
import {dataDirPaths} from '../config/data-dir.js'
import {formatHostPort, type HostPort, type TeleportConfig} from '../config/index.js'
import {startNodeService} from './node/node-service.js'
import {startProxyService} from './proxy/proxy-service.js'

// The thin daemon: starts the configured services in one process, logs one line per service
// with its address, and stops them all on SIGINT/SIGTERM.

export interface RunningService {
  name: string
  close(): Promise<void>
}

export interface TeleportProcess {
  services: RunningService[]
  /** Addresses actually listened on (port 0 resolved). */
  authAddress?: HostPort
  proxyAddresses?: {web: HostPort; ssh: HostPort}
  nodeAddress?: HostPort
  stop(): Promise<void>
}

/** The proxy's public web address for links: configured, or this process's own proxy. */
function proxyPublicAddr(config: TeleportConfig): string {
  if (config.proxy.publicAddrs.length) return formatHostPort(config.proxy.publicAddrs[0])
  return `${config.nodename}:${config.proxy.webListenAddr.port}`
}

/**
 * `clock`: the one time source of every service in the process (tests pass a FakeClock).
 * `waiting`: shows the slow steps, generating keys and joining (teleport start's spinner).
 */
export async function startProcess(config: TeleportConfig, log: Logger = createLogger(config.log), clock: Clock = systemClock, waiting: ShowWaiting = quietly): Promise<TeleportProcess> {
  prepareDataDir(config.dataDir)
  const paths = dataDirPaths(config.dataDir)
  const joining = `Joining the cluster via ${config.authServers.map(formatHostPort).join(', ')}…`
  // Host keys already made load at once: nothing to show.
  const makingKeys = (role: 'proxy' | 'node'): ShowWaiting => (existsSync(paths.hostIdentity(role)) ? quietly : waiting)
  const services: RunningService[] = []
  const process_: TeleportProcess = {
    services,
    async stop() {
      for (const service of [...services].reverse()) {
        try {
          await service.close()
          log.info(`${service.name} service stopped.`)
        } catch (err) {
          log.error(`${service.name} service failed to stop: ${(err as Error).message}`)
        }
      }
    },
  }
  const join = {authServers: config.authServers, token: config.authToken, caPins: config.caPins}
  try {
    let auth: RunningAuthService | undefined
    if (config.auth.enabled) {
      const authLog = log.child('AUTH')
      const firstStart = !existsSync(paths.hostIdentity('auth'))
      auth = await waiting(firstStart ? "Generating the cluster's certificate authorities and host keys…" : 'Starting the auth service…', () => startAuthService({
        dataDir: config.dataDir,
        storage: config.storage,
        nodeName: config.nodename,
        clusterName: config.auth.clusterName,
        listen: config.auth.listenAddr,
        secondFactor: config.auth.authentication.secondFactor,
        staticTokens: config.auth.staticTokens.map((t) => `${t.roles.join(',')}:${t.token}`),
        proxyPublicAddr: proxyPublicAddr(config),
        sessionRecording: config.auth.sessionRecording,
        proxyChecksHostKeys: config.auth.proxyChecksHostKeys,
        webIdleTimeoutMs: config.auth.webIdleTimeoutMs,
        proxyListenerMode: config.auth.proxyListenerMode,
        ...(config.auth.auditEventsDir !== undefined ? {auditEventsDir: config.auth.auditEventsDir} : {}),
        ...(config.auth.auditSessionsDir !== undefined ? {auditSessionsDir: config.auth.auditSessionsDir} : {}),
        startupLimits: config.auth.connectionLimits,
        log: (line) => authLog.warn(line),
        clock,
      }))
      const running = auth
      services.push({name: 'Auth', close: () => running.close()})
      process_.authAddress = auth.address
      authLog.info(`Auth service is starting on ${formatHostPort(auth.address)}, cluster "${config.auth.clusterName}", data dir ${config.dataDir}.`)
      authLog.info(`CA pin: ${(await auth.auth.caPins()).join(',')}`)
    }
    if (config.proxy.enabled) {
      const local = auth
      const access = local ? await makingKeys('proxy')('Generating host keys…', () => localAccess(local, {dataDir: config.dataDir, nodeName: config.nodename, role: 'Proxy', principals: config.proxy.publicAddrs.map((a) => a.host)})) : undefined
      const proxy = await closingOnFailure(access, () => waiting(access ? 'Starting the proxy service…' : joining, () => startProxyService({
        dataDir: config.dataDir,
        nodeName: config.nodename,
        webListen: config.proxy.webListenAddr,
        sshListen: config.proxy.sshListenAddr,
        tunnelListen: config.proxy.tunnelListenAddr,
        publicAddrs: config.proxy.publicAddrs,
        httpsKeyPairs: config.proxy.httpsKeyPairs,
        startupLimits: config.proxy.connectionLimits,
        cluster: access ?? {join},
        log: log.child('PROXY'),
        clock,
      })))
      services.push({name: 'Proxy', close: async () => {
        await proxy.close()
        await access?.close()
      }})
      process_.proxyAddresses = {web: proxy.webAddress, ssh: proxy.sshAddress}
    }
    if (config.ssh.enabled) {
      const local = auth
      const access = local ? await makingKeys('node')('Generating host keys…', () => localAccess(local, {dataDir: config.dataDir, nodeName: config.nodename, role: 'Node'})) : undefined
      const node = await closingOnFailure(access, () => waiting(access ? 'Starting the node service…' : joining, () => startNodeService({
        dataDir: config.dataDir,
        nodeName: config.nodename,
        listen: config.ssh.listenAddr,
        ...(config.ssh.reverseTunnel ? {reverseTunnel: config.ssh.reverseTunnel} : {}),
        labels: config.ssh.labels,
        commands: config.ssh.commands,
        startupLimits: config.ssh.connectionLimits,
        cluster: access ? {identity: access.identity, authApi: access.authApi} : {join},
        log: log.child('NODE'),
        clock,
      })))
      services.push({name: 'Node', close: async () => {
        await node.close()
        await access?.close()
      }})
      process_.nodeAddress = node.address
    }
  } catch (err) {
    await process_.stop()
    throw err
  }
  return process_
}

/** A service that fails to start closes the auth client made for it. */
async function closingOnFailure<T>(access: {close(): Promise<void>} | undefined, start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (err) {
    await access?.close().catch(() => {})
    throw err
  }
}

/** Runs until SIGINT or SIGTERM, then stops cleanly. */
export async function runUntilSignalled(process_: TeleportProcess, log: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`Got ${signal}, shutting down.`)
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      resolve()
    }
    const onInt = () => stop('SIGINT')
    const onTerm = () => stop('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
  })
  await process_.stop()
}
