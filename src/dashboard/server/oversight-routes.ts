/**
 * The dashboard's write endpoints: add or retire a note, pause, pause now,
 * resume (withdraw a pending pause), stop, and veto a kept trial of a running
 * study. Each needs, on every request and also on loopback, the write token
 * in the `X-Strata-Write-Token` header (never a cookie, so another site's
 * page cannot send it), a JSON body, and no foreign `Origin`. Every action is
 * a ledger event whose source is `dashboard`; texts are stored as given and
 * escaped wherever they are shown.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { addNote, retireNote } from '../../oversight/notes.ts';
import { errorMessage, StrataError } from '../../core/errors.ts';
import type { ControlAction } from '../../ledger/events.ts';
import { Ledger } from '../../ledger/ledger.ts';
import { awaitControl, hasLiveOwner, requestControl } from '../../oversight/control-request.ts';

/** The header the write token travels in. */
export const WRITE_TOKEN_HEADER = 'x-strata-write-token';

const digest = (text: string) => createHash('sha256').update(text).digest();
const CONTROL_ACTIONS: readonly ControlAction[] = ['pause', 'pause-now', 'resume', 'stop', 'veto'];

/**
 * Mount the write endpoints on `app` under /api/studies/:id/oversight/.
 *
 * @example
 * mountOversightRoutes(app, { ledgerPath: reader.path, writeToken });
 */
export function mountOversightRoutes(app: Hono, options: { ledgerPath: string; writeToken: string }): void {
  const expected = digest(options.writeToken);
  // The page asks for the token with a same-origin fetch; another origin cannot read the answer.
  app.get('/api/session', (c) => c.json({ writeToken: options.writeToken }, 200, { 'Cache-Control': 'no-store' }));

  app.post('/api/studies/:id/oversight/:action', async (c) => {
    const refused = refusal(c, expected);
    if (refused) return refused;
    let body: Record<string, unknown>;
    try {
      body = (await c.req.json()) as Record<string, unknown>;
    } catch {
      return c.json({ error: 'send a JSON body' }, 400);
    }
    const ledger = Ledger.open(options.ledgerPath);
    try {
      const study = ledger.study(Number(c.req.param('id')));
      const author = typeof body.author === 'string' && body.author.trim() ? body.author.trim().slice(0, 100) : 'dashboard user';
      const action = c.req.param('action');
      if (action === 'note') {
        const text = typeof body.text === 'string' ? body.text : '';
        return c.json({ note: addNote(ledger, study.id, { text, author, source: 'dashboard' }) });
      }
      if (action === 'retire-note') return c.json({ note: retireNote(ledger, study.id, Number(body.note), { author, source: 'dashboard' }) });
      if (!CONTROL_ACTIONS.includes(action as ControlAction)) return c.json({ error: `no action ${action}` }, 404);
      if (!hasLiveOwner(study)) {
        return c.json({ error: `study ${study.name} is not running (it is ${study.state}); ${action === 'veto' ? 'veto it with strata veto' : 'resume it with strata resume'}` }, 409);
      }
      const reason = typeof body.why === 'string' && body.why.trim() ? body.why.trim() : null;
      const trialSeq = Number(body.trial);
      if (action === 'veto' && !Number.isInteger(trialSeq)) return c.json({ error: 'say which trial to veto: {"trial": 7}' }, 400);
      const id = requestControl(ledger, study, { action: action as ControlAction, source: 'dashboard', author, reason, ...(action === 'veto' ? { trialSeq } : {}) });
      const outcome = await awaitControl(ledger, study.id, id, action === 'veto' ? 60_000 : 10_000);
      return c.json({ requested: action, outcome: outcome ?? 'asked; the orchestrator has not answered yet' });
    } catch (error) {
      // The user's mistake (an unknown note, an empty text) is a 400 with the message; nothing else is.
      if (error instanceof StrataError) return c.json({ error: error.message }, 400);
      return c.json({ error: errorMessage(error) }, 500);
    } finally {
      ledger.close();
    }
  });
}

/** Why a write request is refused (no or wrong token, foreign origin, not JSON), or undefined. */
function refusal(c: Context, expected: Buffer): Response | undefined {
  const origin = c.req.header('origin');
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  if (origin !== undefined && origin !== 'null' && safeHost(origin) !== host) return c.json({ error: `refused: a request from ${origin} may not act on this dashboard` }, 403);
  if (origin === 'null') return c.json({ error: 'refused: a request from an opaque origin may not act on this dashboard' }, 403);
  const presented = c.req.header(WRITE_TOKEN_HEADER);
  if (presented === undefined || !timingSafeEqual(digest(presented), expected)) return c.json({ error: `refused: every action needs the dashboard's write token in the ${WRITE_TOKEN_HEADER} header` }, 401);
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) return c.json({ error: 'send the action as application/json' }, 415);
  return undefined;
}

function safeHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
