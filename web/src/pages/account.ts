import {call, secondFactor, webContext} from '../api.js'
import {WEB_UI_ROUTES} from '../../../src/api/web-ui-routes.js'
import {h} from '../dom.js'
import {localTime} from '../format.js'
import {signOutHere} from '../layout.js'
import type {Page} from '../router.js'
import {busy, errorText, field, input, isTotpCode, message, newPasswordInput, newPasswordProblem, totpInput, TOTP_PROBLEM} from '../ui.js'

// The user's account: change the password (the current one and a TOTP code prove it is them)
// and sign out.

export function accountPage(): Page {
  const current = input({type: 'password', name: 'current_password', autocomplete: 'current-password', required: true})
  const next = newPasswordInput('new_password')
  const confirm = newPasswordInput('new_password_confirm')
  const code = totpInput()
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
    const problem = newPasswordProblem(next.value, confirm.value)
    if (problem) return note.error(problem)
    if (!codeField.hidden && !isTotpCode(code.value)) return note.error(TOTP_PROBLEM)
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
  out.addEventListener('click', () => void busy(out, signOutHere))
  return {
    title: 'Account',
    el: h('section', {class: 'account'}, h('div', {class: 'page-head'}, h('h1', null, 'Account')), who, h('div', {class: 'account-panels'}, form, h('div', {class: 'panel'}, h('h2', null, 'Sign out'), h('p', null, 'End this web session on this browser and close its terminals.'), out))),
  }
}
