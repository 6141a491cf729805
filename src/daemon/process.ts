import type {TeleportConfig} from './config/index.js'
import {formatHostPort} from './config/index.js'
import {UserError} from '../lib/errors.js'
import {createLogger, type Logger} from '../lib/log.js'
import {startAuthService} from './auth/auth-service.js'
import {prepareDataDir} from './common/data-dir.js'

// The thin daemon: starts the configured services in one process, logs one line per service
// with its address, and stops them all on SIGINT/SIGTERM.

export interface RunningService {
  name: string
  close(): Promise<void>
}

export interface TeleportProcess {
  services: RunningService[]
  /** The auth API address actually listened on (port 0 resolved). */
  authAddress?: {host: string; port: number}
  stop(): Promise<void>
}

/** The proxy's public web address for links: configured, or this process's own proxy. */
function proxyPublicAddr(config: TeleportConfig): string {
  if (config.proxy.publicAddrs.length) return formatHostPort(config.proxy.publicAddrs[0])
  return `${config.nodename}:${config.proxy.webListenAddr.port}`
}

export async function startProcess(config: TeleportConfig, log: Logger = createLogger(config.log)): Promise<TeleportProcess> {
  const unavailable = config.roles.filter((role) => role !== 'auth')
  if (unavailable.length) {
    throw new UserError(`the ${unavailable.join(' and ')} service${unavailable.length > 1 ? 's are' : ' is'} not available in this version`, {
      hint: 'run with --roles=auth',
    })
  }
  prepareDataDir(config.dataDir)
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
  try {
    if (config.auth.enabled) {
      const authLog = log.child('AUTH')
      const auth = await startAuthService({
        dataDir: config.dataDir,
        nodeName: config.nodename,
        clusterName: config.auth.clusterName,
        listen: config.auth.listenAddr,
        secondFactor: config.auth.authentication.secondFactor,
        staticTokens: config.auth.staticTokens.map((t) => `${t.roles.join(',')}:${t.token}`),
        proxyPublicAddr: proxyPublicAddr(config),
        log: (line) => authLog.warn(line),
      })
      services.push({name: 'Auth', close: () => auth.close()})
      process_.authAddress = auth.address
      authLog.info(`Auth service is starting on ${formatHostPort(auth.address)}, cluster "${config.auth.clusterName}", data dir ${config.dataDir}.`)
      const pins = await auth.auth.caPins()
      authLog.info(`CA pin: ${pins.join(',')}`)
    }
  } catch (err) {
    await process_.stop()
    throw err
  }
  return process_
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
