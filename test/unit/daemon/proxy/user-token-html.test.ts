import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {describe, test} from 'node:test'
import {FormCsrf} from '../../../../src/daemon/proxy/form-csrf.js'
import {escapeHtml, PAGE_CSP, renderMessagePage, renderUserTokenDone, renderUserTokenForm} from '../../../../src/daemon/proxy/user-token-html.js'

const base = {kind: 'invite' as const, user: 'alice', expires: new Date('2026-11-21T10:00:00Z'), action: '/web/invite/' + 'a'.repeat(32), csrf: 'csrf-value'}

describe('invite and reset pages', () => {
  test('the style sheet is the only inline content and the CSP allows exactly it', () => {
    const html = renderUserTokenForm(base)
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]
    const hash = createHash('sha256').update(style).digest('base64')
    assert.ok(PAGE_CSP.includes(`style-src 'sha256-${hash}'`))
    assert.ok(PAGE_CSP.includes("default-src 'self'") && PAGE_CSP.includes("img-src 'self' data:") && PAGE_CSP.includes("script-src 'none'"))
    assert.ok(!html.includes('<script'))
  })

  test('everything dynamic is escaped', () => {
    const evil = '<script>alert("x")</script>'
    const html = renderUserTokenForm({...base, user: evil, error: evil, csrf: '"><img src=x>', totp: {qrDataUrl: 'data:image/png;base64,AAAA', secret: 'ABCDEFGH', required: true}})
    assert.ok(!html.includes('<script>alert'))
    assert.ok(html.includes(escapeHtml(evil)))
    assert.ok(!html.includes('"><img src=x>'))
    assert.ok(!renderUserTokenDone({user: evil, kind: 'invite', loginCommand: evil}).includes('<script>alert'))
    assert.ok(!renderMessagePage(evil, evil, evil).includes('<script>alert'))
  })

  test('with TOTP: QR image, secret grouped for reading and raw for copying, required code field', () => {
    const html = renderUserTokenForm({...base, totp: {qrDataUrl: 'data:image/png;base64,AAAA', secret: 'ABCDEFGHIJKL', required: true}})
    assert.match(html, /<img class="qr" src="data:image\/png;base64,AAAA"/)
    assert.match(html, /data-secret="ABCDEFGHIJKL">ABCD EFGH IJKL</)
    assert.match(html, /name="otp_code"[^>]* required/)
    assert.match(html, /name="password_confirm"/)
    assert.match(html, /name="csrf_token" value="csrf-value"/)
  })

  test('second factor off: no QR code and no code field; optional: the field is not required', () => {
    const off = renderUserTokenForm(base)
    assert.ok(!off.includes('otp_code') && !off.includes('<img'))
    const optional = renderUserTokenForm({...base, totp: {qrDataUrl: 'data:,', secret: 'AB', required: false}})
    assert.match(optional, /name="otp_code"/)
    assert.doesNotMatch(optional, /name="otp_code"[^>]* required/)
  })

  test('CSRF field: bound to the token and to this process', () => {
    const csrf = new FormCsrf()
    const token = 'b'.repeat(32)
    const field = csrf.fieldFor(token)
    assert.equal(csrf.check(token, field), true)
    assert.equal(csrf.check('c'.repeat(32), field), false)
    assert.equal(csrf.check(token, undefined), false)
    assert.equal(csrf.check(token, field.slice(1)), false)
    assert.equal(new FormCsrf().check(token, field), false)
  })
})
