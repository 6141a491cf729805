import {createReadStream, readFileSync} from 'node:fs'
import {open, stat} from 'node:fs/promises'
import type {IncomingMessage, ServerResponse} from 'node:http'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {pipeline} from 'node:stream'
import {sendHtml, sendJsonError} from './http-util.js'

// The browser app built by `npm run build` (web/ → dist/web/): every page under /web is the one
// index.html (the app routes itself), /web/app/* are its assets. Assets whose names carry a
// content hash never change, so browsers may keep them; index.html is never cached, so a new
// build is picked up on the next load. Only files under dist/web/app are served, by a path that
// cannot leave it.

/** The routes of the app (docs/WEB.md "Pages", and any path under them); each serves index.html. */
export const WEB_PAGE_PATH = /^\/web(\/(login|nodes|sessions|recordings|audit|account|invite|reset|terminal|player)(\/[^?]*)?)?\/?$/
export const WEB_ASSET_PREFIX = '/web/app/'

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
}

/** `name-<hash>.ext` as bundlers write them (8+ hex or base64url characters before the extension). */
const HASHED_NAME = /[.-][A-Za-z0-9_]{8,}\.[a-z0-9]+$/

/**
 * dist/web of the package this file belongs to (from src/, dist/ or a bundle part): the first
 * ancestor whose package.json names a package (dist/bundle and bin hold nameless ones that only
 * set the module type).
 */
export function defaultWebAssetsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!namesPackage(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return path.join(dir, 'dist', 'web')
}

function namesPackage(file: string): boolean {
  try {
    return typeof (JSON.parse(readFileSync(file, 'utf8')) as {name?: unknown}).name === 'string'
  } catch {
    return false
  }
}

export class StaticFiles {
  private readonly appDir: string

  constructor(private readonly root: string) {
    this.appDir = path.join(root, 'app')
  }

  /** index.html, or a 503 page saying the UI was not built. */
  async serveIndex(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const file = path.join(this.root, 'index.html')
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) {
      return sendHtml(
        res,
        503,
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Web UI not built</title></head><body>' +
          '<h1>The web UI is not built</h1><p>This proxy has no <code>dist/web/index.html</code>. Run <code>npm run build</code> and restart the proxy.</p></body></html>',
      )
    }
    return this.send(req, res, file, info.size, false)
  }

  /** A file under /web/app/; 404 for anything missing or outside it. */
  async serveAsset(req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<void> {
    let relative: string
    try {
      relative = decodeURIComponent(urlPath.slice(WEB_ASSET_PREFIX.length))
    } catch {
      return sendJsonError(res, 404, 'not found')
    }
    const file = path.resolve(this.appDir, relative)
    // No `..`, no absolute paths, no NUL: the resolved file must sit under app/.
    if (relative === '' || relative.includes('\0') || !file.startsWith(this.appDir + path.sep)) return sendJsonError(res, 404, 'not found')
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) return sendJsonError(res, 404, 'not found')
    return this.send(req, res, file, info.size, HASHED_NAME.test(path.basename(file)))
  }

  private async send(req: IncomingMessage, res: ServerResponse, file: string, size: number, immutable: boolean): Promise<void> {
    const handle = await open(file, 'r')
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-store',
    })
    if (req.method === 'HEAD') {
      await handle.close()
      return void res.end()
    }
    await new Promise<void>((resolve) => pipeline(createReadStream('', {fd: handle}), res, () => resolve()))
  }
}
