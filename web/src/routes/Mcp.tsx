/**
 * @module
 * MCP servers on each online node: register one (command, arguments, environment, and
 * secret variables typed into password fields: they go to the node's vault and never
 * come back), start/stop/restart, status and logs, its tools with a toggle each (offered
 * to agent tasks or not), and a tool call with JSON arguments and its result.
 */
import { createMemo, createResource, createSignal, For, Index, onCleanup, Show, untrack } from 'solid-js';
import { api, optional, type McpServerView, type McpToolView } from '../api.ts';
import { Confirm } from '../components/Dialog.tsx';
import { keysOf } from '../keyed.ts';
import { data } from '../state.ts';
import { ui, screenTitle } from '../ui.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const RUNNING = new Set(['running', 'starting']);

export default function Mcp() {
  screenTitle('MCP servers');
  const online = () => (data.nodes() ?? []).filter((n) => n.online);
  return (
    <section aria-labelledby="mcp-title">
      <h1 id="mcp-title">MCP servers</h1>
      <p class="muted small">Tools of running MCP servers are offered to agent tasks as &lt;server&gt;__&lt;tool&gt; unless switched off here.</p>
      <For each={online()} fallback={<p class="muted card">No node is online: MCP servers run on a node.</p>}>
        {(n) => <NodeMcp node={n.id} name={online().length > 1 ? (n.name ?? n.id) : null} />}
      </For>
    </section>
  );
}

function NodeMcp(props: { node: string; name: string | null }) {
  const [servers, { refetch }] = createResource(
    () => props.node,
    (node) => optional(api.mcpServers(node)).then((r) => r && r.servers, (e) => ({ error: message(e) })),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refetchSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refetch(), 150);
  };
  const unlisten = data.onEvent((e) => e.nodeId === props.node && e.topic === 'mcp' && refetchSoon());
  const poll = setInterval(() => data.liveStatus() !== 'live' && !document.hidden && void refetch(), 5000);
  onCleanup(() => {
    unlisten();
    clearInterval(poll);
    clearTimeout(timer);
  });
  const list = () => {
    const v = servers();
    return Array.isArray(v) ? v : [];
  };
  const names = keysOf(list, (s) => s.name);
  return (
    <section aria-label={`MCP servers on ${props.name ?? props.node}`} data-node={props.node}>
      <Show when={props.name}>
        <h2>On {props.name}</h2>
      </Show>
      <Show when={servers() !== null} fallback={<p class="muted card">This node's homeportd has no MCP hub yet: update it.</p>}>
        <Show when={servers() && 'error' in servers()!}>
          <p class="error" role="alert">
            {(servers() as { error: string }).error}
          </p>
        </Show>
        <Register node={props.node} onDone={refetchSoon} />
        <ul class="list">
          <For each={names()} fallback={<li class="muted card">{servers.loading ? 'Loading…' : 'No MCP servers registered yet.'}</li>}>
            {(name) => <Show when={list().find((s) => s.name === name)}>{(s) => <ServerCard node={props.node} server={s()} onChange={refetchSoon} />}</Show>}
          </For>
        </ul>
      </Show>
    </section>
  );
}

/** `KEY=value` lines to an object; a line without `=` is an error for people. */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`"${line}" is not KEY=value`);
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return env;
}

function Register(props: { node: string; onDone: () => void }) {
  const [secrets, setSecrets] = createSignal<number[]>([]);
  const [error, setError] = createSignal('');
  let next = 0;
  let details!: HTMLDetailsElement;
  async function register(event: SubmitEvent) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const text = (name: string) => String(f.get(name) ?? '').trim();
    setError('');
    try {
      const names = f.getAll('secret-name').map(String);
      const values = f.getAll('secret-value').map(String);
      const secretEnv = Object.fromEntries(names.map((n, i) => [n.trim(), values[i]]).filter(([n]) => n));
      const cwd = text('cwd');
      const { server } = await api.registerMcp(props.node, {
        name: text('name'),
        command: text('command'),
        args: String(f.get('args') ?? '')
          .split('\n')
          .map((a) => a.trim())
          .filter(Boolean),
        env: parseEnv(String(f.get('env') ?? '')),
        secretEnv,
        ...(cwd ? { cwd } : {}),
      });
      form.reset();
      setSecrets([]);
      details.open = false;
      ui.notify(`${server.name} registered`);
      props.onDone();
    } catch (e) {
      setError(message(e));
    }
  }
  return (
    <details class="card register" ref={details}>
      <summary>Register a server</summary>
      <form onSubmit={register}>
        <div class="inline">
          <label class="field">
            Name
            <input name="name" required placeholder="files" autocomplete="off" />
          </label>
          <label class="field grow">
            Command
            <input name="command" required placeholder="npx" autocomplete="off" />
          </label>
        </div>
        <label class="field">
          Arguments (one per line)
          <textarea name="args" rows="2" placeholder={'-y\n@modelcontextprotocol/server-filesystem'} />
        </label>
        <label class="field">
          Environment (KEY=value, one per line)
          <textarea name="env" rows="2" placeholder="LOG_LEVEL=info" />
        </label>
        <label class="field">
          Working directory (empty: the home folder)
          <input name="cwd" autocomplete="off" />
        </label>
        <fieldset>
          <legend>Secret environment (stored encrypted, never shown again)</legend>
          <Index each={secrets()}>
            {(_, i) => (
              <div class="inline secret-row">
                <label class="field">
                  Variable
                  <input name="secret-name" required autocomplete="off" placeholder="API_TOKEN" />
                </label>
                <label class="field">
                  Value
                  <input name="secret-value" type="password" required autocomplete="new-password" />
                </label>
                <button type="button" onClick={() => setSecrets((s) => s.filter((_, j) => j !== i))} aria-label="Remove this secret variable">
                  Remove
                </button>
              </div>
            )}
          </Index>
          <button type="button" onClick={() => setSecrets((s) => [...s, next++])}>
            Add a secret variable
          </button>
        </fieldset>
        <Show when={error()}>
          <p class="error" role="alert">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary">
          Register
        </button>
      </form>
    </details>
  );
}

function ServerCard(props: { node: string; server: McpServerView; onChange: () => void }) {
  const s = () => props.server;
  const [error, setError] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const [removing, setRemoving] = createSignal(false);
  const running = () => RUNNING.has(s().status.state);
  async function run(what: () => Promise<unknown>, done: string) {
    setError('');
    setBusy(true);
    try {
      await what();
      ui.notify(done);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
      props.onChange();
    }
  }
  const action = (a: 'start' | 'stop' | 'restart') => run(() => api.mcp(props.node, s().name, a), `${s().name}: ${a === 'stop' ? 'stopped' : a === 'start' ? 'started' : 'restarted'}`);
  return (
    <li class="card mcp-server" data-mcp={s().name}>
      <div class="row">
        <div class="grow">
          <h3>
            {s().name}{' '}
            <span class={`badge state-${s().status.state}`} data-testid="mcp-state">
              {s().status.state}
            </span>
          </h3>
          <div class="muted small">
            <code>{[s().command, ...s().args].join(' ')}</code>
            <Show when={s().status.serverInfo}>{(i) => <> · {i().name} {i().version}</>}</Show>
            <Show when={s().status.tools !== null}> · {s().status.tools} tools</Show>
            <Show when={s().secretEnv.length}> · secrets: {s().secretEnv.join(', ')}</Show>
          </div>
          <Show when={s().status.lastError}>{(e) => <div class="small error">{e()}</div>}</Show>
        </div>
        <div class="actions">
          <Show
            when={running()}
            fallback={
              <button type="button" class="primary" disabled={busy()} onClick={() => action('start')} aria-label={`Start ${s().name}`}>
                Start
              </button>
            }
          >
            <button type="button" disabled={busy()} onClick={() => action('stop')} aria-label={`Stop ${s().name}`}>
              Stop
            </button>
          </Show>
          <button type="button" disabled={busy() || !running()} onClick={() => action('restart')} aria-label={`Restart ${s().name}`}>
            Restart
          </button>
          <button type="button" class="danger" disabled={busy()} onClick={() => setRemoving(true)} aria-label={`Remove ${s().name}`}>
            Remove
          </button>
        </div>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={s().status.state === 'running'}>
        <Tools node={props.node} server={s().name} version={`${s().status.pid}:${s().disabledTools.join()}`} />
      </Show>
      <details class="mcp-logs">
        <summary>Logs</summary>
        <McpLog node={props.node} name={s().name} version={s().status.state} />
      </details>
      <Show when={removing()}>
        <Confirm
          title={`Remove ${s().name}?`}
          message="It is stopped and forgotten, its secret variables too."
          action="Remove server"
          onConfirm={() => run(() => api.removeMcp(props.node, s().name), `${s().name} removed`).then(() => void setRemoving(false))}
          onClose={() => setRemoving(false)}
        />
      </Show>
    </li>
  );
}

/** An example of the arguments a tool takes: its required properties, empty. */
function exampleArgs(tool: McpToolView | undefined): string {
  const schema = tool?.inputSchema ?? {};
  const props = (schema.required ?? []).map((name) => {
    const type = (schema.properties?.[name] as { type?: string } | undefined)?.type;
    return [name, type === 'number' || type === 'integer' ? 0 : type === 'boolean' ? false : type === 'object' ? {} : type === 'array' ? [] : ''];
  });
  return JSON.stringify(Object.fromEntries(props), null, 2);
}

function Tools(props: { node: string; server: string; version: string }) {
  const [tools, { refetch }] = createResource(
    () => props.version,
    () => api.mcpTools(props.node, props.server).then((r) => r.tools, (e) => ({ error: message(e) })),
  );
  const list = () => {
    const v = tools();
    return Array.isArray(v) ? v : [];
  };
  const toolNames = keysOf(list, (t) => t.name);
  const [chosen, setChosen] = createSignal('');
  // The arguments box gets an example when the tool changes, not when the list is refreshed.
  const current = createMemo(() => chosen() || list()[0]?.name || '');
  const [result, setResult] = createSignal<{ text: string; isError: boolean } | null>(null);
  const [error, setError] = createSignal('');
  let args!: HTMLTextAreaElement;

  async function toggle(tool: McpToolView, enabled: boolean) {
    setError('');
    try {
      await api.mcpToolEnabled(props.node, props.server, tool.name, enabled);
      ui.notify(`${tool.name} ${enabled ? 'offered to agents' : 'not offered to agents'}`);
    } catch (e) {
      setError(message(e));
    }
    void refetch();
  }
  async function callTool(event: SubmitEvent) {
    event.preventDefault();
    setError('');
    setResult(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(args.value || '{}');
    } catch (e) {
      return setError(`The arguments are not JSON: ${message(e)}`);
    }
    try {
      const { result } = await api.mcpCall(props.node, props.server, current(), parsed);
      const r = result as { content?: { type: string; text?: string }[]; isError?: boolean };
      const texts = (r.content ?? []).map((c) => (c.type === 'text' ? c.text : JSON.stringify(c)));
      setResult({ text: texts.length ? texts.join('\n') : JSON.stringify(result, null, 2), isError: r.isError === true });
    } catch (e) {
      setError(message(e));
    }
  }
  return (
    <section class="mcp-tools" aria-label={`Tools of ${props.server}`}>
      <Show when={tools() && 'error' in tools()!}>
        <p class="error" role="alert">
          {(tools() as { error: string }).error}
        </p>
      </Show>
      <ul class="list">
        <For each={toolNames()}>
          {(name) => (
            <Show when={list().find((t) => t.name === name)}>
              {(tool) => (
                <li class="tool-row" data-tool={name}>
                  <label class="check">
                    <input type="checkbox" role="switch" checked={tool().enabled} onChange={(e) => toggle(tool(), e.currentTarget.checked)} aria-label={`Offer ${name} to agents`} />
                    <span>
                      <code>{name}</code> <span class="muted small">{tool().description}</span>
                      <Show when={tool().problem}>{(p) => <span class="small warn-text"> · {p()}</span>}</Show>
                    </span>
                  </label>
                </li>
              )}
            </Show>
          )}
        </For>
      </ul>
      <Show when={list().length}>
        <form class="call" onSubmit={callTool}>
          <label class="field">
            Call a tool
            <select value={current()} onChange={(e) => setChosen(e.currentTarget.value)}>
              <For each={list()}>{(t) => <option value={t.name}>{t.name}</option>}</For>
            </select>
          </label>
          <label class="field">
            Arguments (JSON)
            <textarea ref={args} name="arguments" rows="3" spellcheck={false} value={untrack(() => exampleArgs(list().find((t) => t.name === current())))} />
          </label>
          <button type="submit">Call</button>
        </form>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={result()}>
        {(r) => (
          <div>
            <p class="muted small">{r().isError ? 'The tool reported an error:' : 'Result:'}</p>
            <pre class="tool-result" classList={{ error: r().isError }} data-testid="mcp-result">
              {r().text}
            </pre>
          </div>
        )}
      </Show>
    </section>
  );
}

function McpLog(props: { node: string; name: string; version: string }) {
  const [lines, { refetch }] = createResource(
    () => props.version,
    () => api.mcpLogs(props.node, props.name).then((r) => r.lines, () => []),
  );
  return (
    <>
      <button type="button" class="link" onClick={() => refetch()}>
        Refresh
      </button>
      <pre class="server-log" tabindex="0" aria-label={`Output of ${props.name}`}>
        <For each={lines() ?? []} fallback={<span class="muted">No output yet.</span>}>{(l) => <span class={`line ${l.stream}`}>{l.text + '\n'}</span>}</For>
      </pre>
    </>
  );
}
