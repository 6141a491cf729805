import {FitAddon} from '@xterm/addon-fit'
import {Terminal, type ITerminalOptions} from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'

// xterm.js as the terminal and the player use it: one look, and copy/paste with
// Ctrl+Shift+C / Ctrl+Shift+V (Ctrl+C stays the interrupt key) or the context menu.

const THEME = {background: '#14161a', foreground: '#e6e6e6', cursor: '#e6e6e6', selectionBackground: '#4a5a8a'}

export function newTerminal(options: ITerminalOptions = {}): {term: Terminal; fit: FitAddon} {
  const term = new Terminal({
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace',
    fontSize: 14,
    theme: THEME,
    scrollback: 5000,
    rightClickSelectsWord: true,
    ...options,
  })
  const fit = new FitAddon()
  term.loadAddon(fit)
  term.attachCustomKeyEventHandler((event) => {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true
    if (event.code === 'KeyC') {
      if (term.hasSelection()) void navigator.clipboard?.writeText(term.getSelection()).catch(() => {})
      event.preventDefault()
      return false
    }
    // The browser pastes into xterm's text area (a paste event), which types it into the terminal.
    return event.code !== 'KeyV'
  })
  return {term, fit}
}

/** Bytes of a binary frame, or the UTF-8 of a string typed into the terminal. */
export const encoder = new TextEncoder()
