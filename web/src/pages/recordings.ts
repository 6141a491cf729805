import {call, site} from '../api.js'
import {WEB_UI_ROUTES} from '../../../src/api/web-ui-routes.js'
import {h} from '../dom.js'
import {duration, localTime} from '../format.js'
import {pager, timeRange} from '../paged.js'
import {BASE, type Page} from '../router.js'
import {message, table} from '../ui.js'

// Recorded sessions in a time range, newest first, a page at a time; each opens the player.

const PAGE_SIZE = '25'

export function recordingsPage(): Page {
  const range = timeRange(7)
  const note = message()
  let query = range.value()!
  const list = pager(
    async (startKey) => call(WEB_UI_ROUTES.recordings, {params: await site(), query: {...query, limit: PAGE_SIZE, ...(startKey ? {startKey} : {})}}),
    (items) =>
      table(
        ['Started', 'Duration', 'User', 'Login', 'Node', 'Participants', ''],
        items.map((r) =>
          h(
            'tr',
            {'data-sid': r.sid},
            h('td', null, localTime(r.created)),
            h('td', null, duration(r.duration_ms)),
            h('td', null, r.user),
            h('td', null, r.login ?? ''),
            h('td', null, r.hostname ?? r.server_id ?? ''),
            h('td', null, r.participants.join(', ')),
            h('td', {class: 'right'}, r.interactive ? h('a', {class: 'button small', href: `${BASE}/player/${encodeURIComponent(r.sid)}`}, 'Play') : h('span', {class: 'muted small'}, 'Not interactive')),
          ),
        ),
        'No recordings in this time range.',
      ),
  )
  const search = h('button', {type: 'submit', class: 'primary'}, 'Search')
  const form = h('form', {class: 'filters'}, h('label', null, 'From ', range.from), h('label', null, 'To ', range.to), search)
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const value = range.value()
    if (!value) return note.error('Choose a start before the end.')
    note.clear()
    query = value
    list.reset()
  })
  list.reset()
  return {title: 'Recordings', el: h('section', null, h('div', {class: 'page-head'}, h('h1', null, 'Recordings'), h('span', {class: 'spacer'}), form), note.el, list.el)}
}
