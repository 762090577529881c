/**
 * @module
 * The body of a generic webhook request, checked (pure): JSON `{repo?, prompt, model?,
 * limits?}`. The endpoint's own repo wins; a request may name one only when the endpoint
 * has none. Other fields are allowed and ignored (senders often wrap more context).
 */
export const MAX_PROMPT = 32_000;
const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export interface EndpointTask {
  repo: string;
  prompt: string;
  model?: string;
  limits?: Record<string, unknown>;
}

export function endpointRequestOf(text: string, endpointRepo: string | null): { task: EndpointTask } | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: 'the body must be JSON: {"prompt": "…", "repo": "…"}' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'the body must be a JSON object: {"prompt": "…", "repo": "…"}' };
  const { repo, prompt, model, limits } = body as Record<string, unknown>;
  if (typeof prompt !== 'string' || !prompt.trim()) return { error: '"prompt" is required (a non-empty string)' };
  if (prompt.length > MAX_PROMPT) return { error: `"prompt" is longer than ${MAX_PROMPT} characters` };
  if (repo !== undefined && repo !== null && (typeof repo !== 'string' || !REPO_NAME.test(repo))) return { error: '"repo" must be the name of a repo on the home node' };
  if (endpointRepo && repo && repo !== endpointRepo) return { error: `this endpoint always works on "${endpointRepo}"; leave "repo" out or say "${endpointRepo}"` };
  const target = endpointRepo ?? (typeof repo === 'string' ? repo : null);
  if (!target) return { error: 'this endpoint has no repo of its own: say which one with "repo"' };
  if (model !== undefined && (typeof model !== 'string' || model.length > 100)) return { error: '"model" must be a model name' };
  if (limits !== undefined && (typeof limits !== 'object' || limits === null || Array.isArray(limits))) return { error: '"limits" must be an object' };
  return { task: { repo: target, prompt, ...(model ? { model } : {}), ...(limits ? { limits: limits as Record<string, unknown> } : {}) } };
}
