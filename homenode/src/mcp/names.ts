/**
 * @module
 * Names in the MCP hub: server names (they become part of agent tool names and secret
 * names), environment variable names, and the agent-facing tool names
 * `<server>__<tool>`, which must satisfy the Messages API (^[a-zA-Z0-9_-]{1,64}$) and
 * be unique across every server.
 */

/**
 * Letters, digits, `-` and single `_` inside; never `__` and never `_` at either end. Then
 * the first `__` of an agent tool name always ends the server part, so tools of two
 * different servers can never be given the same agent name.
 */
export const SERVER_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,38}[a-zA-Z0-9])?$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** The Messages API's rule for tool names. */
export const AGENT_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const SEPARATOR = '__';

export function agentToolName(server: string, tool: string): string {
  return `${server}${SEPARATOR}${tool}`;
}

/** What is wrong with a server name, or null. */
export function serverNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || !name) return 'a server needs a name';
  if (name.includes(SEPARATOR)) {
    const [head, ...rest] = name.split(SEPARATOR);
    return `"${name}" cannot name an MCP server: agents see tools as "<server>__<tool>", so its tool "x" and the tool "${rest.join(SEPARATOR)}__x" of a server "${head}" would both be "${name}__x". Use no "__" in server names`;
  }
  if (!SERVER_NAME.test(name)) return `"${name}" cannot name an MCP server: use 1 to 40 letters, digits, "-" and "_" (not "_" first or last)`;
  return null;
}

export interface ToolNaming {
  server: string;
  tool: string;
  agentName: string;
  /** why agents are not offered this tool under that name; null when it is fine */
  problem: string | null;
}

/**
 * Names every tool of every server for agents and refuses the ones that cannot be
 * offered: a name outside the Messages API's rule, or one that two tools would share
 * (server names make that impossible across servers, but a server may list a name
 * twice); then both are refused, so what an agent gets never depends on list order.
 */
export function nameTools(tools: { server: string; tool: string }[]): ToolNaming[] {
  const named = tools.map(({ server, tool }) => ({ server, tool, agentName: agentToolName(server, tool), problem: null as string | null }));
  const byName = new Map<string, ToolNaming[]>();
  for (const t of named) byName.set(t.agentName, [...(byName.get(t.agentName) ?? []), t]);
  for (const t of named) {
    if (!AGENT_TOOL_NAME.test(t.agentName)) {
      t.problem = `"${t.agentName}" is not a valid tool name for agents (1 to 64 letters, digits, "_" or "-"): tool "${t.tool}" of server "${t.server}" is not offered`;
      continue;
    }
    const clash = (byName.get(t.agentName) ?? []).filter((o) => o !== t);
    if (clash.length)
      t.problem = `"${t.agentName}" would name more than one tool (${[t, ...clash].map((o) => `"${o.tool}" of server "${o.server}"`).join(' and ')}): none of them is offered`;
  }
  return named;
}
