/**
 * @module
 * CLI commands for the edge side of things: pairing this machine, signing in, and the
 * owner's nodes.
 *
 *   homeport pair <edge url> <code> [--name n]
 *   homeport register <edge url> --email <e> [--name n]
 *   homeport login <edge url> --email <e>
 *   homeport logout | whoami
 *   homeport pairing-code
 *   homeport nodes [rename <node> <name> | revoke <node>]
 */
import { hostname } from 'node:os';
import { dataDirOf } from '../../config.ts';
import { PairingError, normalizeEdgeUrl, pairWithEdge } from '../../pairing.ts';
import { call } from '../client.ts';
import { UsageError, optionValue, readSecret, table, type Command, type CommandContext } from '../command.ts';
import { EdgeError, edgeCall, forgetCredentials, readCredentials, saveCredentials, withLogin } from '../edge-client.ts';

function ago(ms: number | null): string {
  if (ms === null) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 172800 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}

/** Prints an edge failure like the rest of the CLI: one line, exit 1. */
function failed(error: unknown): number {
  if (error instanceof EdgeError || error instanceof PairingError) {
    process.stderr.write(`homeport: ${error.message}\n`);
    return 1;
  }
  throw error;
}

function edgeArg(ctx: CommandContext): string {
  const raw = ctx.args[0];
  if (!raw) throw new UsageError('say which edge, like https://homeport.example.com');
  try {
    return normalizeEdgeUrl(raw);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Signs in with a password and keeps a scoped API token (not the session) for the CLI. */
async function signIn(edgeUrl: string, cookieHeader: string, email: string, out: (s: string) => void): Promise<void> {
  const cookie = cookieHeader.split(/,(?=\s*[^;,=\s]+=)/).map((c) => c.split(';')[0].trim()).filter((c) => c.includes('homeport_session')).join('; ');
  const { body } = await edgeCall<{ token: string }>(edgeUrl, 'POST', '/api/tokens', { cookie, body: { name: `homeport CLI on ${hostname()}`, scopes: ['read', 'write'] } });
  saveCredentials({ edgeUrl, token: body.token, email });
  // The CLI keeps the token only; the browser-style session is ended at once.
  await edgeCall(edgeUrl, 'POST', '/api/auth/logout', { cookie }).catch(() => undefined);
  out(`signed in to ${edgeUrl} as ${email} (an API token is kept in a file only you can read)`);
}

async function emailAndPassword(ctx: CommandContext) {
  const email = optionValue(ctx.rest, '--email');
  if (!email) throw new UsageError('--email is required');
  const password = await readSecret('Password: ');
  if (!password) throw new UsageError('the password may not be empty');
  return { email, password };
}

const pair: Command = {
  name: 'pair',
  usage: ['homeport pair <edge url> <code> [--name n]  pair this machine with an edge (code from the dashboard or `homeport pairing-code`)'],
  async run(ctx) {
    const edgeUrl = edgeArg(ctx);
    const code = ctx.args[1];
    if (!code) throw new UsageError('the pairing code is missing: create one in the dashboard (Nodes → Pair a node) or with `homeport pairing-code`');
    try {
      const paired = await pairWithEdge({ edgeUrl, code, name: optionValue(ctx.rest, '--name'), dataDir: dataDirOf() });
      ctx.out(table([
        ['paired as', `${paired.nodeId} (${paired.name})`],
        ['edge', paired.edgeUrl],
        ['shares at', paired.shareBaseUrl],
      ]));
      // A running homeportd picks the new token up now; otherwise at its next start.
      const reloaded = await call<{ tunnel: { state: string } }>('POST', '/api/tunnel/reload').then(() => true, () => false);
      ctx.out(reloaded ? 'homeportd is connecting with the new token (`homeport status`)' : 'start homeportd to connect (it reads the token from the data dir)');
      return 0;
    } catch (error) {
      return failed(error);
    }
  },
};

const register: Command = {
  name: 'register',
  usage: ['homeport register <edge url> --email e [--name n]  create an account (the first one is the owner); password from the terminal or stdin'],
  async run(ctx) {
    const edgeUrl = edgeArg(ctx);
    const { email, password } = await emailAndPassword(ctx);
    try {
      const { body, response } = await edgeCall<{ user?: { email: string }; message?: string }>(edgeUrl, 'POST', '/api/auth/register', { body: { email, password, name: optionValue(ctx.rest, '--name') ?? null } });
      if (response.status === 201 && body.user) {
        ctx.out('account created: you are the owner and admin of this edge');
        await signIn(edgeUrl, response.headers.get('set-cookie') ?? '', body.user.email, ctx.out);
      } else ctx.out(body.message ?? 'registration received; an admin must approve it');
      return 0;
    } catch (error) {
      return failed(error);
    }
  },
};

const login: Command = {
  name: 'login',
  usage: ['homeport login <edge url> --email e       sign the CLI in to an edge (password from the terminal or stdin)'],
  async run(ctx) {
    const edgeUrl = edgeArg(ctx);
    const { email, password } = await emailAndPassword(ctx);
    try {
      const { body, response } = await edgeCall<{ user: { email: string } }>(edgeUrl, 'POST', '/api/auth/login', { body: { email, password } });
      await signIn(edgeUrl, response.headers.get('set-cookie') ?? '', body.user.email, ctx.out);
      return 0;
    } catch (error) {
      return failed(error);
    }
  },
};

const logout: Command = {
  name: 'logout',
  usage: ['homeport logout                          forget the CLI\'s edge token (delete it in the dashboard too)'],
  async run(ctx) {
    const had = readCredentials();
    forgetCredentials();
    ctx.out(had ? `signed out of ${had.edgeUrl}; the token is still listed in the dashboard under Settings → Tokens until you delete it` : 'not signed in');
    return 0;
  },
};

const whoami: Command = {
  name: 'whoami',
  usage: ['homeport whoami                          who the CLI is signed in as'],
  async run(ctx) {
    try {
      const me = await withLogin<{ user: { email: string; role: string } | null }>('GET', '/api/auth/me');
      ctx.out(`${me.user?.email ?? '?'} (${me.user?.role ?? '?'}) on ${readCredentials()!.edgeUrl}`);
      return 0;
    } catch (error) {
      return failed(error);
    }
  },
};

const pairingCode: Command = {
  name: 'pairing-code',
  usage: ['homeport pairing-code                    a single-use code (10 minutes) to pair another machine'],
  async run(ctx) {
    try {
      const made = await withLogin<{ code: string; expiresAt: number; command: string }>('POST', '/api/pairing-codes');
      if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(made)), 0;
      ctx.out(`code ${made.code} (single use, until ${new Date(made.expiresAt).toLocaleTimeString()})`);
      ctx.out(`on the other machine: ${made.command}`);
      return 0;
    } catch (error) {
      return failed(error);
    }
  },
};

interface NodeRow {
  id: string;
  name: string;
  online: boolean;
  lastSeen: number | null;
  shareBaseUrl: string;
}

const nodes: Command = {
  name: 'nodes',
  usage: ['homeport nodes [rename <node> <name> | revoke <node>]  your home nodes'],
  async run(ctx) {
    const [action, id, ...name] = ctx.args;
    try {
      if (action === 'rename') {
        if (!id || !name.length) throw new UsageError('homeport nodes rename <node> <new name>');
        const { node } = await withLogin<{ node: NodeRow }>('PATCH', `/api/nodes/${encodeURIComponent(id)}`, { name: name.join(' ') });
        ctx.out(`node ${node.id} is now called "${node.name}"`);
        return 0;
      }
      if (action === 'revoke') {
        if (!id) throw new UsageError('homeport nodes revoke <node>');
        await withLogin('DELETE', `/api/nodes/${encodeURIComponent(id)}`);
        ctx.out(`node ${id} is revoked: its tunnel is closed and its shares no longer answer`);
        return 0;
      }
      if (action !== undefined) throw new UsageError(`unknown nodes action "${action}"`);
      const list = (await withLogin<{ nodes: NodeRow[] }>('GET', '/api/nodes')).nodes;
      if (ctx.flags.has('--json')) return ctx.out(JSON.stringify(list, null, 2)), 0;
      if (!list.length) return ctx.out('No nodes yet: `homeport pairing-code`, then `homeport pair` on the machine.'), 0;
      ctx.out(table([['NODE', 'NAME', 'STATE', 'LAST SEEN', 'SHARES AT'], ...list.map((n) => [n.id, n.name, n.online ? 'online' : 'offline', n.online ? 'now' : ago(n.lastSeen), n.shareBaseUrl])]));
      return 0;
    } catch (error) {
      return failed(error);
    }
  },
};

export const accountCommands: Command[] = [pair, register, login, logout, whoami, pairingCode, nodes];
