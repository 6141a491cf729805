import {call, expired, openUiSocket, site} from '../api.js'
import {WEB_UI_ROUTES, type TerminalParams, type WebParticipantMode} from '../../../src/api/web-ui-routes.js'
import {h, replace} from '../dom.js'
import type {Page} from '../router.js'
import {errorText} from '../ui.js'
import {encoder, newTerminal} from '../xterm.js'

// A browser terminal in its own tab: xterm.js filling the window, one WebSocket to the proxy
// (docs/WEB.md: the bearer token as the first frame, binary frames terminal bytes, text frames
// JSON control). It follows the window's size; on a lost connection it offers to reconnect.

interface Target {
  server_id: string
  login: string
  hostname?: string
  sid?: string
  mode?: WebParticipantMode
}

type Control =
  | {type: 'session'; session: {sid: string; server_id: string; login: string; hostname: string}}
  | {type: 'event'; event: {event?: string; user?: string; participant_mode?: string}}
  | {type: 'error'; message: string}
  | {type: 'close'; reason?: string}

const MODES: WebParticipantMode[] = ['observer', 'peer', 'moderator']

export function terminalPage(match: string[], query: URLSearchParams): Page {
  const joining = match[0] === 'join'
  const title = h('span', {class: 'term-title'}, joining ? `Joining session ${match[1]}` : `${match[1]}@${match[0]}`)
  const status = h('span', {class: 'term-status', 'data-state': 'connecting'}, 'Connecting…')
  const banner = h('div', {class: 'banner', role: 'alert', hidden: true})
  const screen = h('div', {class: 'term-screen'})
  const el = h(
    'div',
    {class: 'terminal-page'},
    h('header', {class: 'term-bar'}, h('span', {class: 'brand'}, 'Teleport'), title, h('span', {class: 'spacer'}), h('span', {class: 'muted hint'}, 'Copy Ctrl+Shift+C · Paste Ctrl+Shift+V'), status),
    banner,
    screen,
  )
  const {term, fit} = newTerminal()
  let socket: WebSocket | null = null
  let ended = false
  let disposed = false

  const setStatus = (state: string, text: string) => {
    status.dataset.state = state
    status.textContent = text
  }
  const showBanner = (kind: 'error' | 'info', text: string, action?: {label: string; run: () => void}) => {
    banner.className = `banner ${kind}`
    replace(banner, h('span', null, text), action && h('button', {type: 'button', class: 'primary', onclick: action.run}, action.label))
    banner.hidden = false
    fit.fit()
  }
  const hideBanner = () => {
    banner.hidden = true
    fit.fit()
  }
  /** Sends to the session while it runs (not once it said it ended: the socket is closing). */
  const send = (data: string | Uint8Array) => {
    if (!ended && socket?.readyState === WebSocket.OPEN) socket.send(data)
  }
  const sizeChanged = () => {
    screen.dataset.cols = String(term.cols)
    screen.dataset.rows = String(term.rows)
    send(JSON.stringify({type: 'resize', size: `${term.cols}:${term.rows}`}))
  }

  const target = async (): Promise<Target> => {
    if (!joining) return {server_id: match[0]!, login: match[1]!}
    const sid = match[1]!
    const mode = MODES.find((m) => m === query.get('mode')) ?? 'observer'
    const {items} = await call(WEB_UI_ROUTES.activeSessions, {params: await site()})
    const live = items.find((s) => s.sid === sid)
    if (!live) throw new Error(`Session ${sid} is not running any more.`)
    if (!live.join_modes.includes(mode)) throw new Error(`Your roles do not allow joining session ${sid} as ${mode}.`)
    return {server_id: live.server_id, login: live.login, hostname: live.hostname, sid, mode}
  }

  const connect = async () => {
    hideBanner()
    ended = false
    setStatus('connecting', 'Connecting…')
    let to: Target
    try {
      to = await target()
    } catch (err) {
      setStatus('closed', 'Not connected')
      return showBanner('error', errorText(err))
    }
    if (disposed) return
    if (to.hostname) title.textContent = `${to.login}@${to.hostname}${to.mode ? ` (${to.mode})` : ''}`
    const params: TerminalParams = {server_id: to.server_id, login: to.login, term: {w: term.cols, h: term.rows}, ...(to.sid ? {sid: to.sid, mode: to.mode} : {})}
    let lastError = ''
    const ws = openUiSocket<Control>(`/v1/webapi/sites/${encodeURIComponent((await site()).site)}/connect/ws?params=${encodeURIComponent(JSON.stringify(params))}`, {
      bytes: (data) => term.write(data),
      control: (msg) => {
        switch (msg.type) {
          case 'session':
            title.textContent = `${msg.session.login}@${msg.session.hostname}${to.mode ? ` (${to.mode})` : ''}`
            document.title = `${title.textContent} · Teleport`
            el.dataset.sid = msg.session.sid
            setStatus('open', 'Connected')
            sizeChanged()
            term.focus()
            break
          case 'error':
            lastError = msg.message
            break
          case 'close':
            ended = true
            setStatus('closed', 'Session ended')
            showBanner('info', `Session ended${msg.reason ? `: ${msg.reason}` : '.'}`)
            break
          // 'event' (join, leave, resize): the node already tells the participants in the terminal.
        }
      },
    })
    socket = ws
    ws.addEventListener('close', (event) => {
      if (socket !== ws || disposed) return
      socket = null
      if (event.code === 4001) return expired()
      if (ended || event.code === 1000) {
        setStatus('closed', 'Session ended')
        if (banner.hidden) showBanner('info', 'Session ended.')
        return
      }
      setStatus('closed', 'Disconnected')
      if (event.code === 4003 || event.code === 4004) return showBanner('error', lastError || (event.code === 4003 ? 'Access denied.' : 'No such node or session.'))
      showBanner('error', lastError ? `Connection lost: ${lastError}` : 'Connection lost', {label: 'Reconnect', run: () => void connect()})
    })
  }

  term.onData((data) => send(encoder.encode(data)))
  term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))))
  term.onResize(sizeChanged)
  const observer = new ResizeObserver(() => fit.fit())

  return {
    title: 'Terminal',
    chrome: 'bare',
    el,
    mounted: () => {
      term.open(screen)
      fit.fit()
      sizeChanged()
      observer.observe(screen)
      void connect()
    },
    dispose: () => {
      disposed = true
      observer.disconnect()
      socket?.close(1000)
      term.dispose()
    },
  }
}
