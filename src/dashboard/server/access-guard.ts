import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export const TOKEN_COOKIE = 'strata_token';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1';
}

/** A fresh random token for a dashboard bound beyond loopback. */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Who may read the dashboard.
 * - Bound to loopback: no token, but the Host header must name this machine,
 *   so a web page elsewhere cannot reach the server through DNS rebinding.
 * - Bound to any other address: every request carries the token, as
 *   `Authorization: Bearer`, `X-Strata-Token`, the cookie, or `?token=`
 *   (which sets the cookie and, for pages, redirects to the clean URL).
 */
export function accessGuard(options: { token: string | null }): MiddlewareHandler {
  const expected = options.token === null ? null : digest(options.token);
  return async (c, next) => {
    if (expected === null) {
      // In-process requests (tests, app.request) carry no Host header; the URL has it then.
      const host = c.req.header('host') ?? new URL(c.req.url).host;
      const name = host.replace(/:\d+$/, '');
      if (!isLoopback(name)) return c.text(`strata serve: refused a request for host "${host}"; open the dashboard at http://127.0.0.1:<port>/\n`, 403);
      return next();
    }
    const query = c.req.query('token');
    const header = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? c.req.header('x-strata-token');
    const presented = query ?? header ?? getCookie(c, TOKEN_COOKIE);
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="strata"');
      return c.text(
        'strata serve: this dashboard needs its token. Open the URL `strata serve` printed (it ends in ?token=…), or send the header Authorization: Bearer <token> (the token is STRATA_TOKEN when set).\n',
        401,
      );
    }
    if (query !== undefined) {
      setCookie(c, TOKEN_COOKIE, query, { httpOnly: true, sameSite: 'Strict', path: '/' });
      if (c.req.method === 'GET' && !c.req.path.startsWith('/api/')) {
        const url = new URL(c.req.url);
        url.searchParams.delete('token');
        return c.redirect(`${url.pathname}${url.search}`, 302);
      }
    }
    return next();
  };
}
