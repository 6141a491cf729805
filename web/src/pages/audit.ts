import {call, site} from '../api.js'
import {WEB_UI_ROUTES} from '../../../src/api/web-ui-routes.js'
import {EventName} from '../../../src/events/codes.js'
import {h, replace} from '../dom.js'
import {localTime} from '../format.js'
import {pager, timeRange} from '../paged.js'
import type {Page} from '../router.js'
import {message, table} from '../ui.js'

// The audit log: a time range and an event-type filter, newest first, a page at a time; a click
// on an event shows it whole as JSON.

const PAGE_SIZE = '50'

type Event = Record<string, unknown>

const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value))

/** What an event is about in one line: the fields a reader looks for first. */
function summary(e: Event): string {
  const parts: string[] = []
  if (e.login) parts.push(`login ${text(e.login)}`)
  if (e.server_hostname) parts.push(`on ${text(e.server_hostname)}`)
  if (e.sid) parts.push(`session ${text(e.sid)}`)
  if (e['addr.remote']) parts.push(`from ${text(e['addr.remote'])}`)
  if (e.error) parts.push(`error: ${text(e.error)}`)
  if (e.message && !e.error) parts.push(text(e.message))
  return parts.join(' · ')
}

export function auditPage(): Page {
  const range = timeRange(1)
  const type = h(
    'select',
    {'aria-label': 'Event type'},
    h('option', {value: ''}, 'All events'),
    [...new Set(Object.values(EventName))].sort().map((name) => h('option', {value: name}, name)),
  )
  const note = message()
  const detail = h('pre', {class: 'event-detail', hidden: true, 'aria-label': 'Event detail'})
  let query = range.value()!
  let selected: HTMLElement | null = null
  const select = (row: HTMLElement, event: Event) => {
    selected?.classList.remove('selected')
    selected = row
    row.classList.add('selected')
    replace(detail, JSON.stringify(event, null, 2))
    detail.hidden = false
    board.classList.add('with-detail')
  }
  const list = pager(
    async (startKey) =>
      call(WEB_UI_ROUTES.events, {params: await site(), query: {...query, ...(type.value ? {include: type.value} : {}), limit: PAGE_SIZE, ...(startKey ? {startKey} : {})}}),
    (items) =>
      table(
        ['Time', 'Event', 'Code', 'User', 'Details'],
        items.map((e) => {
          const row = h(
            'tr',
            {class: 'clickable', tabindex: '0', 'data-event': text(e.event)},
            h('td', {class: 'nowrap'}, localTime(text(e.time))),
            h('td', {class: 'mono'}, text(e.event)),
            h('td', {class: 'mono'}, text(e.code)),
            h('td', null, text(e.user)),
            h('td', {class: 'ellipsis'}, summary(e)),
          )
          row.addEventListener('click', () => select(row, e))
          row.addEventListener('keydown', (k) => {
            if (k.key === 'Enter') select(row, e)
          })
          return row
        }),
        'No events in this time range.',
      ),
  )
  const form = h('form', {class: 'filters'}, h('label', null, 'From ', range.from), h('label', null, 'To ', range.to), type, h('button', {type: 'submit', class: 'primary'}, 'Search'))
  const search = () => {
    const value = range.value()
    if (!value) return note.error('Choose a start before the end.')
    note.clear()
    query = value
    detail.hidden = true
    board.classList.remove('with-detail')
    list.reset()
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    search()
  })
  type.addEventListener('change', search)
  const board = h('div', {class: 'audit'}, list.el, detail)
  list.reset()
  return {
    title: 'Audit log',
    el: h('section', null, h('div', {class: 'page-head'}, h('h1', null, 'Audit log'), h('span', {class: 'spacer'}), form), note.el, board),
  }
}
