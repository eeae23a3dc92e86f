import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file the dashboard serves, read once at start. */
export interface StaticAsset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The front end's folder, shipped inside the package. */
export const STATIC_DIR = fileURLToPath(new URL('../static/', import.meta.url));

/**
 * Every front-end file by URL path (`/assets/app.js`), plus uPlot from the
 * package's own dependency, so the dashboard works with no network. Only
 * these exact paths are served: no path is ever joined from a request.
 */
export function loadStaticAssets(): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(`/assets/${name}`, { body: bytes(join(STATIC_DIR, name)), type });
  }
  const require = createRequire(import.meta.url);
  const uplotDir = dirname(require.resolve('uplot'));
  assets.set('/assets/vendor/uPlot.iife.min.js', { body: bytes(join(uplotDir, 'uPlot.iife.min.js')), type: TYPES['.js']! });
  assets.set('/assets/vendor/uPlot.min.css', { body: bytes(join(uplotDir, 'uPlot.min.css')), type: TYPES['.css']! });
  return assets;
}

function bytes(path: string): Uint8Array<ArrayBuffer> {
  const buffer = readFileSync(path);
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer);
}
