import {signedIn, whenExpired} from './api.js'
import {h} from './dom.js'

// History-API routing under /web: each route makes a page; the previous page is disposed (its
// sockets closed) when another is shown. Pages that need a session send the user to sign-in, and
// back to where they were after it.

export const BASE = '/web'

export interface Page {
  title: string
  el: HTMLElement
  /** 'bare': no top bar (the terminal fills its tab); 'plain': a bar without sections (sign-in). */
  chrome?: 'full' | 'bare' | 'plain'
  /** Called once the page is in the document (what measures itself, like xterm, starts here). */
  mounted?: () => void
  dispose?: () => void
}

export interface Route {
  pattern: RegExp
  /** Reachable without a session (sign-in, invite and reset links). */
  anonymous?: boolean
  page: (match: string[], query: URLSearchParams) => Page | Promise<Page>
}

type Shell = (page: Page) => Promise<HTMLElement> | HTMLElement

let routes: Route[] = []
let shell: Shell = (page) => page.el
let current: Page | null = null
let rendering = 0
let expiredNotice = false

export function start(table: Route[], frame: Shell): void {
  routes = table
  shell = frame
  whenExpired(() => {
    expiredNotice = true
    toSignIn()
  })
  window.addEventListener('popstate', () => void render())
  document.addEventListener('click', followLink)
  void render()
}

/**
 * Whether the sign-in page should say the session expired: until a signed-in page renders again
 * (several refused calls of one page may each bring the sign-in page back, and each says it).
 */
export function takeExpiredNotice(): boolean {
  return expiredNotice
}

export function navigate(to: string, options: {replace?: boolean} = {}): void {
  if (options.replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  void render()
}

/** To sign-in, coming back here after it. */
export function toSignIn(): void {
  const here = location.pathname + location.search
  const back = here.startsWith(`${BASE}/login`) ? '' : `?redirect=${encodeURIComponent(here)}`
  navigate(`${BASE}/login${back}`, {replace: true})
}

/** Where sign-in goes next: a page of this UI only (never another site). */
export function afterSignIn(query: URLSearchParams): string {
  const to = query.get('redirect') ?? ''
  return /^\/web\/[\w\-/?=&%.]*$/.test(to) && !to.startsWith(`${BASE}/login`) ? to : `${BASE}/nodes`
}

function followLink(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  const link = (event.target as Element | null)?.closest?.('a')
  if (!link || link.target || link.hasAttribute('download') || link.origin !== location.origin) return
  if (!link.pathname.startsWith(`${BASE}/`)) return
  event.preventDefault()
  if (link.pathname + link.search !== location.pathname + location.search) navigate(link.pathname + link.search)
}

async function render(): Promise<void> {
  const turn = ++rendering
  let path = location.pathname.replace(/\/+$/, '')
  if (path === BASE || path === '') return navigate(`${BASE}/${signedIn() ? 'nodes' : 'login'}`, {replace: true})
  path = path.slice(BASE.length)
  const query = new URLSearchParams(location.search)
  const route = routes.find((r) => r.pattern.test(path))
  if (route && !route.anonymous && !signedIn()) return toSignIn()
  if (route && !route.anonymous) expiredNotice = false
  const match = route ? decoded(route.pattern.exec(path)!.slice(1)) : null
  const page = route && match ? await route.page(match, query) : notFound()
  const el = await shell(page)
  if (turn !== rendering) {
    page.dispose?.()
    return
  }
  current?.dispose?.()
  current = page
  document.title = `${page.title} · Teleport`
  document.getElementById('app')!.replaceChildren(el)
  page.mounted?.()
}

/** The path's parts as text; null when one is not valid percent-encoding. */
function decoded(parts: string[]): string[] | null {
  try {
    return parts.map(decodeURIComponent)
  } catch {
    return null
  }
}

function notFound(): Page {
  return {title: 'Not found', el: h('section', {class: 'panel narrow'}, h('h1', null, 'Page not found'), h('p', null, h('a', {href: `${BASE}/nodes`}, 'Go to the node list')))}
}
