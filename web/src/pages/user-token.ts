import {call} from '../api.js'
import {WEB_UI_ROUTES, type WebUserToken} from '../../../src/api/web-ui-routes.js'
import {h, replace} from '../dom.js'
import {localTime} from '../format.js'
import {BASE, type Page} from '../router.js'
import {busy, errorText, field, isTotpCode, message, newPasswordInput, newPasswordProblem, totpInput, TOTP_PROBLEM} from '../ui.js'

// Invite and reset links: who the link is for, the TOTP secret to enroll (QR code and text), the
// new password twice and a code from the app; then on to sign-in. The link works once.

export function userTokenPage(kind: 'invite' | 'reset', token: string): Page {
  const el = h('section', {class: 'panel narrow wide'}, h('p', {class: 'muted'}, 'Loading…'))
  call(WEB_UI_ROUTES.userToken, {params: {token}}, {anonymous: true}).then(
    (info) => replace(el, ...form(info, token)),
    (err) =>
      replace(
        el,
        h('h1', null, kind === 'invite' ? 'Set up your account' : 'Reset your password'),
        h('p', {class: 'message error', role: 'alert'}, errorText(err)),
        h('p', {class: 'muted'}, 'Ask your cluster administrator for a new link.'),
      ),
  )
  return {title: kind === 'invite' ? 'Set up your account' : 'Reset your password', chrome: 'plain', el}
}

function form(info: WebUserToken, token: string): HTMLElement[] {
  const password = newPasswordInput('password')
  const confirm = newPasswordInput('password_confirm')
  const code = totpInput(true)
  const submit = h('button', {type: 'submit', class: 'primary'}, info.kind === 'invite' ? 'Create account' : 'Set password')
  const note = message()
  const totp = info.totp
  const enroll =
    totp &&
    h(
      'div',
      {class: 'enroll'},
      h('h2', null, 'Authenticator app'),
      h('p', {class: 'small'}, 'Scan the QR code with an authenticator app, or enter the secret by hand (time-based, 6 digits, 30 seconds).'),
      h('img', {class: 'qr', src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(totp.qr_svg)}`, alt: 'QR code of the one-time password secret', width: '160', height: '160'}),
      h('p', {class: 'secret'}, h('code', {id: 'totp-secret', 'data-secret': totp.secret}, totp.secret.replace(/(.{4})(?=.)/g, '$1 '))),
      field('6-digit code from the app', code),
    )
  const f = h(
    'form',
    {novalidate: true, 'aria-label': info.kind === 'invite' ? 'Set up your account' : 'Reset your password'},
    note.el,
    h('div', {class: enroll ? 'token-grid' : ''}, h('div', null, h('h2', null, 'Password'), field('New password', password, '6 to 128 characters'), field('Confirm password', confirm)), enroll),
    h('div', {class: 'actions'}, submit),
  )
  const intro =
    info.kind === 'invite'
      ? ['Welcome, ', h('strong', {class: 'token-user'}, info.user), '. Choose a password', totp ? ' and set up your authenticator app' : '', ' to finish creating your account.']
      : ['Choose a new password', totp ? ' and set up your authenticator app again' : '', ' for ', h('strong', {class: 'token-user'}, info.user), '.']
  const section = [
    h('h1', null, info.kind === 'invite' ? 'Set up your account' : 'Reset your password'),
    h('p', null, intro),
    f,
    h('p', {class: 'muted'}, `This link works once and expires at ${localTime(info.expires)}.`),
  ]
  f.addEventListener('submit', (event) => {
    event.preventDefault()
    const problem = newPasswordProblem(password.value, confirm.value)
    if (problem) return note.error(problem)
    if (totp && !isTotpCode(code.value)) return note.error(TOTP_PROBLEM)
    void busy(submit, async () => {
      note.clear()
      try {
        const done = await call(WEB_UI_ROUTES.redeemUserToken, {body: {token, password: password.value, ...(totp ? {second_factor_token: code.value.trim()} : {})}}, {anonymous: true})
        const parent = f.parentElement!
        replace(
          parent,
          h('h1', null, 'Your account is ready'),
          h('p', {class: 'message info', role: 'status'}, `${info.kind === 'invite' ? 'The account' : 'The new password'} for ${done.user} is set.`),
          h('div', {class: 'actions'}, h('a', {class: 'button primary', href: `${BASE}/login?user=${encodeURIComponent(done.user)}`}, 'Sign in')),
        )
      } catch (err) {
        code.value = ''
        note.error(errorText(err))
      }
    })
  })
  return section
}
