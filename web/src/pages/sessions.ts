import {call, site} from '../api.js'
import {WEB_UI_ROUTES} from '../../../src/api/web-ui-routes.js'
import {h} from '../dom.js'
import {localTime} from '../format.js'
import {BASE, type Page} from '../router.js'
import {loading, table} from '../ui.js'

// Live sessions from the session trackers, with a Join link for each mode the user's roles allow
// (each opens a terminal tab joined to the session).

export function joinHref(sid: string, mode: string): string {
  return `${BASE}/terminal/join/${encodeURIComponent(sid)}?mode=${encodeURIComponent(mode)}`
}

export function sessionsPage(): Page {
  const body = h('div', {class: 'table-wrap'})
  const refresh = () =>
    loading(body, async () => {
      const {items} = await call(WEB_UI_ROUTES.activeSessions, {params: await site()})
      return table(
        ['Started', 'State', 'User', 'Login', 'Node', 'Participants', ''],
        items.map((s) =>
          h(
            'tr',
            {'data-sid': s.sid},
            h('td', null, localTime(s.created)),
            h('td', null, h('span', {class: `state ${s.state.toLowerCase()}`}, s.state)),
            h('td', null, s.user),
            h('td', null, s.login),
            h('td', null, h('span', {class: 'strong'}, s.hostname), h('div', {class: 'muted mono small'}, s.addr)),
            h('td', null, s.participants.map((p) => `${p.user} (${p.mode})`).join(', ')),
            h(
              'td',
              {class: 'right nowrap'},
              s.join_modes.length
                ? s.join_modes.map((mode) => h('a', {class: 'button small', href: joinHref(s.sid, mode), target: '_blank', rel: 'opener'}, `Join as ${mode}`))
                : h('span', {class: 'muted small'}, 'Cannot join'),
            ),
          ),
        ),
        'No active sessions.',
      )
    })
  const button = h('button', {type: 'button', onclick: () => void refresh()}, 'Refresh')
  void refresh()
  return {title: 'Active sessions', el: h('section', null, h('div', {class: 'page-head'}, h('h1', null, 'Active sessions'), h('span', {class: 'spacer'}), button), body)}
}
