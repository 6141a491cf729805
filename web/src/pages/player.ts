import {expired, openUiSocket, site} from '../api.js'
import {h, replace} from '../dom.js'
import {clock, localTime} from '../format.js'
import {BASE, type Page} from '../router.js'
import {newTerminal} from '../xterm.js'

// The recording player: the proxy streams the recording, paced, over a WebSocket (docs/WEB.md);
// the page writes each frame to xterm and keeps nothing else, so a recording of any length
// plays in little memory. Play/pause, speed, a seek bar and the time.

type Control =
  | {type: 'meta'; size: string; user?: string; login?: string; hostname?: string; created?: string}
  | {type: 'duration'; duration_ms: number}
  | {type: 'resize'; size: string}
  | {type: 'time'; ms: number}
  | {type: 'reset'}
  | {type: 'end'}
  | {type: 'error'; message: string}

const SPEEDS = [0.5, 1, 2, 4, 8]
const FONT_SIZE = 14
const MIN_FONT_SIZE = 7

function parseSize(size: string): {cols: number; rows: number} | null {
  const m = /^(\d+):(\d+)$/.exec(size)
  return m ? {cols: Math.max(1, Number(m[1])), rows: Math.max(1, Number(m[2]))} : null
}

export function playerPage(sid: string): Page {
  const info = h('p', {class: 'muted player-info'}, `Session ${sid}`)
  const banner = h('div', {class: 'banner', role: 'alert', hidden: true})
  const screen = h('div', {class: 'player-screen'})
  const stage = h('div', {class: 'player-stage'}, screen)
  const play = h('button', {type: 'button', class: 'play', 'aria-label': 'Play', disabled: true}, '▶')
  const seek = h('input', {type: 'range', class: 'seek', min: '0', max: '0', step: '100', value: '0', 'aria-label': 'Position', disabled: true})
  const time = h('span', {class: 'time mono'}, '00:00 / 00:00')
  const speed = h('select', {class: 'speed', 'aria-label': 'Speed'}, SPEEDS.map((s) => h('option', {value: String(s), selected: s === 1}, `${s}×`)))
  const el = h(
    'section',
    {class: 'player-page'},
    h('div', {class: 'page-head'}, h('h1', null, 'Session recording'), info, h('span', {class: 'spacer'}), h('a', {href: `${BASE}/recordings`}, 'All recordings')),
    banner,
    stage,
    h('div', {class: 'player-controls'}, play, seek, time, speed),
  )
  const {term} = newTerminal({disableStdin: true, cursorBlink: false, scrollback: 0, fontSize: FONT_SIZE})
  // The recording's size is fixed: a screen larger than the stage is drawn in a smaller font.
  const fitToStage = () => {
    const drawn = screen.querySelector<HTMLElement>('.xterm-screen')
    if (!drawn || !stage.clientWidth) return
    const at = term.options.fontSize ?? FONT_SIZE
    const scale = Math.min((stage.clientWidth - 16) / drawn.offsetWidth, (stage.clientHeight - 16) / drawn.offsetHeight)
    const size = Math.max(MIN_FONT_SIZE, Math.min(FONT_SIZE, Math.floor(at * scale * 10) / 10))
    if (Math.abs(size - at) >= 0.1) term.options.fontSize = size
  }
  const stageObserver = new ResizeObserver(() => fitToStage())
  let socket: WebSocket | null = null
  let duration = 0
  let position = 0
  let playing = false
  let atEnd = false
  let dragging = false

  const send = (msg: object) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg))
  }
  const showTime = (ms: number) => {
    time.textContent = `${clock(ms)} / ${clock(duration)}`
    if (!dragging) seek.value = String(ms)
    el.dataset.ms = String(ms)
  }
  const setPlaying = (on: boolean) => {
    playing = on
    play.textContent = on ? '❚❚' : '▶'
    play.setAttribute('aria-label', on ? 'Pause' : 'Play')
    el.dataset.state = on ? 'playing' : atEnd ? 'ended' : 'paused'
  }
  const fail = (text: string) => {
    banner.className = 'banner error'
    replace(banner, text)
    banner.hidden = false
    play.disabled = true
    seek.disabled = true
  }

  play.addEventListener('click', () => {
    if (playing) {
      send({type: 'pause'})
      return setPlaying(false)
    }
    if (atEnd) {
      atEnd = false
      send({type: 'seek', ms: 0})
    }
    send({type: 'play'})
    setPlaying(true)
  })
  speed.addEventListener('change', () => send({type: 'speed', speed: Number(speed.value)}))
  // Space plays and pauses, unless a control has the keyboard.
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== ' ' || play.disabled || (event.target as Element | null)?.closest?.('button, input, select, a')) return
    event.preventDefault()
    play.click()
  }
  document.addEventListener('keydown', onKey)
  seek.addEventListener('input', () => {
    dragging = true
    time.textContent = `${clock(Number(seek.value))} / ${clock(duration)}`
  })
  seek.addEventListener('change', () => {
    dragging = false
    atEnd = false
    // A seek keeps the player as it was: paused (or ended) stays still at the new place.
    if (!playing) send({type: 'pause'})
    send({type: 'seek', ms: Number(seek.value)})
    el.dataset.state = playing ? 'playing' : 'paused'
  })

  const connect = async () => {
    let lastError = ''
    const ws = openUiSocket<Control>(`/v1/webapi/sites/${encodeURIComponent((await site()).site)}/sessionrecording/${encodeURIComponent(sid)}/stream`, {
      bytes: (data) => term.write(data),
      control: (msg) => {
        switch (msg.type) {
          case 'meta': {
            const size = parseSize(msg.size)
            if (size) term.resize(size.cols, size.rows)
            fitToStage()
            info.textContent = [msg.user, msg.login && msg.hostname ? `as ${msg.login}@${msg.hostname}` : msg.hostname, msg.created && localTime(msg.created)].filter(Boolean).join(' · ')
            play.disabled = false
            showTime(0)
            send({type: 'speed', speed: Number(speed.value)})
            send({type: 'play'})
            setPlaying(true)
            break
          }
          case 'duration':
            // Measured beside playback: the seek bar comes when the length is known.
            duration = msg.duration_ms
            seek.max = String(duration)
            seek.disabled = false
            showTime(position)
            break
          case 'resize': {
            const size = parseSize(msg.size)
            if (size) term.resize(size.cols, size.rows)
            fitToStage()
            break
          }
          case 'time':
            position = msg.ms
            showTime(position)
            break
          case 'reset':
            term.reset()
            break
          case 'end':
            atEnd = true
            showTime(duration)
            setPlaying(false)
            break
          case 'error':
            lastError = msg.message
            fail(msg.message)
            break
        }
      },
    })
    socket = ws
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return
      socket = null
      if (event.code === 4001) return expired()
      setPlaying(false)
      if (banner.hidden) fail(lastError || (event.code === 4004 ? `No recording of session ${sid}.` : 'The connection to the proxy was lost. Reload the page to play again.'))
    })
  }

  return {
    title: 'Recording',
    el,
    mounted: () => {
      term.open(screen)
      stageObserver.observe(stage)
      void connect()
    },
    dispose: () => {
      const ws = socket
      socket = null
      ws?.close(1000)
      stageObserver.disconnect()
      document.removeEventListener('keydown', onKey)
      term.dispose()
    },
  }
}
