// Legacy scp (`scp -O`) arrives as exec "scp -t <path>" (upload) or "scp -f <path>" (download);
// the audit reports it as an scp event instead of an exec.

export interface ScpTransfer {
  action: 'upload' | 'download'
  path: string
}

export function parseScpCommand(command: string): ScpTransfer | undefined {
  const words = command.trim().split(/\s+/)
  if (!words[0] || words[0].split('/').pop() !== 'scp') return undefined
  let action: ScpTransfer['action'] | undefined
  for (const word of words.slice(1)) {
    if (!/^-[A-Za-z]+$/.test(word)) continue
    if (word.includes('t')) action = 'upload'
    else if (word.includes('f')) action = 'download'
  }
  if (!action) return undefined
  return {action, path: words[words.length - 1] ?? ''}
}
