/**
 * @module
 * Nodes: pair a new one (a short-lived code and the exact command to run on it), rename,
 * and revoke (after a confirmation: its tunnel closes and its shares stop answering).
 */
import { createSignal, For, onCleanup, Show } from 'solid-js';
import { ApiError, api, type NodeSummary, type PairingCode } from '../api.ts';
import { Confirm } from '../components/Dialog.tsx';
import { dateTime, until } from '../format.ts';
import { data } from '../state.ts';
import { copy, ui, screenTitle } from '../ui.ts';
import { NodeStateLine } from './Dashboard.tsx';

export default function Nodes() {
  screenTitle('Nodes');
  const [pairing, setPairing] = createSignal<PairingCode | null>(null);
  const [error, setError] = createSignal('');
  const [revoking, setRevoking] = createSignal<NodeSummary | null>(null);
  // While a code is out, look for the new node often (the nodes list has no live channel).
  const timer = setInterval(() => {
    const p = pairing();
    if (p && p.expiresAt > Date.now() && !document.hidden) void data.refresh().catch(() => {});
  }, 2000);
  onCleanup(() => clearInterval(timer));

  async function pair() {
    setError('');
    try {
      setPairing(await api.pairingCode());
    } catch (e) {
      setError(e instanceof ApiError && e.status === 404 ? 'This edge cannot pair nodes yet: update it to a version with pairing.' : e instanceof Error ? e.message : String(e));
    }
  }

  async function revoke(node: NodeSummary) {
    try {
      await api.revokeNode(node.id);
      ui.notify(`${node.name ?? node.id} revoked`);
      setRevoking(null);
      await data.refresh().catch(() => {});
    } catch (e) {
      setRevoking(null);
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <section aria-labelledby="nodes-title">
      <div class="page-head">
        <h1 id="nodes-title">Nodes</h1>
        <button type="button" class="primary" onClick={pair}>
          Pair a node
        </button>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <Show when={pairing()}>
        {(p) => (
          <div class="card pairing" aria-live="polite">
            <h2>Pair a node</h2>
            <p>On the machine to pair (Node 20+), run this. The code works once and {p().expiresAt > ui.now() ? `expires ${until(p().expiresAt, ui.now())}` : 'has expired: pair again for a new one'}.</p>
            <div class="copy-row">
              <code class="command" data-testid="pair-command">
                {p().command}
              </code>
              <button type="button" onClick={() => copy(p().command, 'Command')}>
                Copy
              </button>
            </div>
            <p class="muted small">
              Code: <strong class="code">{p().code}</strong>. The node shows up below once it connects.
            </p>
          </div>
        )}
      </Show>
      <ul class="list">
        <For each={data.nodes() ?? []} fallback={<li class="muted card">No nodes yet.</li>}>
          {(node) => <NodeRow node={node} onRevoke={() => setRevoking(node)} />}
        </For>
      </ul>
      <Show when={revoking()}>
        {(node) => (
          <Confirm
            title={`Revoke ${node().name ?? node().id}?`}
            message={<>Its tunnel closes at once, its shares stop answering, and it must be paired again to come back.</>}
            action="Revoke node"
            onConfirm={() => revoke(node())}
            onClose={() => setRevoking(null)}
          />
        )}
      </Show>
    </section>
  );
}

function NodeRow(props: { node: NodeSummary; onRevoke: () => void }) {
  const [editing, setEditing] = createSignal(false);
  const [error, setError] = createSignal('');
  async function rename(event: SubmitEvent) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get('name') ?? '').trim();
    setError('');
    try {
      await api.renameNode(props.node.id, name);
      setEditing(false);
      ui.notify(`Renamed to ${name}`);
      await data.refresh().catch(() => {});
    } catch (e) {
      setError(e instanceof ApiError && e.status === 404 ? 'Renaming needs an edge with pairing.' : e instanceof Error ? e.message : String(e));
    }
  }
  return (
    <li class="card" data-node={props.node.id}>
      <div class="row">
        <div class="grow">
          <Show
            when={editing()}
            fallback={
              <h2 class="node-name">
                {props.node.name ?? props.node.id} <Show when={props.node.name && props.node.name !== props.node.id}><span class="muted small">{props.node.id}</span></Show>
              </h2>
            }
          >
            <form class="inline" onSubmit={rename}>
              <label class="field">
                Name
                <input name="name" value={props.node.name ?? props.node.id} maxLength={60} required autofocus />
              </label>
              <button type="submit" class="primary">
                Save
              </button>
              <button type="button" onClick={() => setEditing(false)}>
                Cancel
              </button>
            </form>
          </Show>
          <NodeStateLine node={props.node} />
          <div class="muted small">
            <Show when={props.node.agent}>{(a) => <>{a()} · </>}</Show>
            <Show when={props.node.createdAt}>{(at) => <>paired {dateTime(at())} · </>}</Show>
            shares at {props.node.subdomainUrlTemplate?.replace('{port}', '<port>') ?? props.node.shareBaseUrl}
          </div>
        </div>
        <Show when={!editing()}>
          <div class="actions">
            <button type="button" onClick={() => setEditing(true)} aria-label={`Rename ${props.node.name ?? props.node.id}`}>
              Rename
            </button>
            <button type="button" class="danger" onClick={() => props.onRevoke()} aria-label={`Revoke ${props.node.name ?? props.node.id}`}>
              Revoke
            </button>
          </div>
        </Show>
      </div>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
    </li>
  );
}
