import {call, secondFactor, signOut, webContext} from '../api.js'
import {WEB_UI_ROUTES} from '../../../src/api/web-ui-routes.js'
import {h} from '../dom.js'
import {localTime} from '../format.js'
import {BASE, navigate, type Page} from '../router.js'
import {busy, errorText, field, input, message} from '../ui.js'

// The user's account: change the password (the current one and a TOTP code prove it is them)
// and sign out.

export function accountPage(): Page {
  const current = input({type: 'password', name: 'current_password', autocomplete: 'current-password', required: true})
  const next = input({type: 'password', name: 'new_password', autocomplete: 'new-password', minlength: '6', maxlength: '128', required: true})
  const confirm = input({type: 'password', name: 'new_password_confirm', autocomplete: 'new-password', required: true})
  const code = input({name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6', placeholder: '123456'})
  const codeField = field('Authenticator code', code)
  const note = message()
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Change password')
  const who = h('p', {class: 'muted'})
  void webContext().then(
    (c) => (who.textContent = `Signed in as ${c.user.name} (roles: ${c.user.roles.join(', ') || 'none'}) until ${localTime(c.session.expires)}.`),
    () => {},
  )
  void secondFactor().then(
    (mode) => (codeField.hidden = mode === 'off'),
    () => {},
  )
  const form = h(
    'form',
    {class: 'panel', novalidate: true, 'aria-label': 'Change password'},
    h('h2', null, 'Change password'),
    note.el,
    field('Current password', current),
    field('New password', next, '6 to 128 characters'),
    field('Confirm new password', confirm),
    codeField,
    h('div', {class: 'actions'}, submit),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    if (!current.value) return note.error('Enter your current password.')
    if (next.value.length < 6 || next.value.length > 128) return note.error('The new password must be 6 to 128 characters long.')
    if (next.value !== confirm.value) return note.error('The two new passwords differ.')
    if (!codeField.hidden && !/^\d{6}$/.test(code.value.trim())) return note.error('Enter the 6-digit code from your authenticator app.')
    void busy(submit, async () => {
      note.clear()
      try {
        await call(WEB_UI_ROUTES.changePassword, {body: {old_password: current.value, new_password: next.value, ...(code.value.trim() ? {second_factor_token: code.value.trim()} : {})}})
        for (const i of [current, next, confirm, code]) i.value = ''
        note.info('Your password has been changed.')
      } catch (err) {
        code.value = ''
        note.error(errorText(err))
      }
    })
  })
  const out = h('button', {type: 'button'}, 'Sign out')
  out.addEventListener('click', () =>
    void busy(out, async () => {
      try {
        await signOut()
      } finally {
        navigate(`${BASE}/login`, {replace: true})
      }
    }),
  )
  return {
    title: 'Account',
    el: h('section', {class: 'account'}, h('div', {class: 'page-head'}, h('h1', null, 'Account')), who, h('div', {class: 'account-panels'}, form, h('div', {class: 'panel'}, h('h2', null, 'Sign out'), h('p', null, 'End this web session on this browser and close its terminals.'), out))),
  }
}
