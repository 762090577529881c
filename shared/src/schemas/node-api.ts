/**
 * @module
 * Bodies of the node API's JSON routes. They come from the CLI, the dashboard (through
 * the edge and the tunnel) and scripts, so the shape lives here where every side can
 * import it. Objects are strict: a field the route does not know is a 400, not ignored.
 * The meaning of values (is this URL a git remote, is that limit in range) stays with
 * the node's code that uses them and answers with its own messages.
 */
import { z } from 'zod';

const text = (max = 4096) => z.string().max(max).refine((s) => !s.includes('\0'), 'must not contain NUL');
/** Write-only secrets (API keys, tokens): one word, no spaces or control bytes. */
const secret = (what: string) => z.string().min(1, `${what} is empty`).max(1024, `${what} is longer than 1024 characters`).regex(/^[^\s\x00-\x1f\x7f]+$/, `${what} must not contain spaces or control characters`);

/** `homeport port <port> --path-form / --keep-prefix`: the path form is opt-in per port (keep-prefix implies it). */
export const portSettingsBody = z.strictObject({ keepPrefix: z.boolean().optional(), pathForm: z.boolean().optional() });

/** PUT /api/settings: any subset of the node's settings (node-settings.ts says what each accepts). */
export const nodeSettingsBody = z.strictObject({
  githubBaseUrl: z.string().max(2048).optional(),
  autoRestart: z.boolean().optional(),
  idleTimeoutMinutes: z.number().nullable().optional(),
  restoreServers: z.boolean().optional(),
  codeServerPath: z.string().max(4096).nullable().optional(),
  githubApiUrl: z.string().max(2048).nullable().optional(),
  anthropicBaseUrl: z.string().max(2048).optional(),
  agentModel: z.string().max(100).optional(),
  agentImage: z.string().max(255).optional(),
  agentNetwork: z.string().max(64).optional(),
  agentConcurrency: z.number().optional(),
});
export type NodeSettingsBody = z.output<typeof nodeSettingsBody>;

export const anthropicKeyBody = z.strictObject({ key: secret('key') });
export const githubTokenBody = z.strictObject({ token: secret('token') });

export const addRepoBody = z
  .strictObject({ url: text(2048).optional(), path: text().optional(), name: text(200).nullish() })
  .refine((b) => b.url === undefined || b.path === undefined, 'give either "url" (to clone) or "path" (a folder on this machine), not both');

export const repoServerSettingsBody = z.strictObject({
  command: text(4000).nullish(),
  env: z.record(z.string(), z.string()).optional(),
  autoRestart: z.boolean().nullable().optional(),
  idleTimeoutMinutes: z.number().nullable().optional(),
});

/** Missing repo or prompt is left to the task manager, which says how to name them. */
export const createTaskBody = z.strictObject({
  repo: z.string().max(200).optional(),
  prompt: z.string().optional(),
  model: z.string().max(100).nullish(),
  limits: z.record(z.string(), z.number()).nullish(),
  source: z.string().max(120).nullish(),
});
export const followUpBody = z.strictObject({ prompt: z.string() });

export const installServiceBody = z.strictObject({
  template: z.string().max(100),
  name: z.string().max(100).optional(),
  grant: z.array(z.string().max(100)).max(20).optional(),
});

const mcpServerFields = {
  command: text().optional(),
  args: z.array(z.string()).max(256).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: text().optional(),
};
export const registerMcpServerBody = z.strictObject({ name: z.string().max(100), ...mcpServerFields, secretEnv: z.record(z.string(), z.string()).optional() });
/** In an update, `secretEnv: {VAR: null}` removes one. */
export const updateMcpServerBody = z.strictObject({ ...mcpServerFields, secretEnv: z.record(z.string(), z.string().nullable()).optional() });
export const mcpToolCallBody = z.strictObject({ arguments: z.record(z.string(), z.unknown()).optional() });
export const mcpToolEnabledBody = z.strictObject({ enabled: z.boolean() });

export const openVscodeBody = z.strictObject({ repo: z.string().min(1, 'expected {"repo": "<name or id>"}').max(200) });

export const writeFileBody = z.strictObject({
  content: z.string(),
  encoding: z.enum(['utf8', 'base64']).optional(),
  ifMatch: z.string().max(200).optional(),
  create: z.boolean().optional(),
});
export const makeDirBody = z.strictObject({ path: z.string().min(1, 'path must name the new folder').max(4096) });
export const movePathBody = z.strictObject({
  from: z.string().min(1, 'from must be a path inside the repo').max(4096),
  to: z.string().min(1, 'to must be a path inside the repo').max(4096),
  overwrite: z.boolean().optional(),
});

export const gitIdentityBody = z
  .strictObject({ name: z.string().max(128).nullable().optional(), email: z.string().max(254).nullable().optional() })
  .refine((b) => b.name !== undefined || b.email !== undefined, 'give name, email or both');

/**
 * POST /api/repos/:repo/git: `{op, …its values}`. Which values an op takes, and what a
 * ref may look like, is checked per op on the node (git/git.ts, git/validate.ts).
 */
export const gitOperationBody = z.looseObject({ op: z.string().min(1).max(40) });
