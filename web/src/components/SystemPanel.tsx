/**
 * @module
 * A node's system stats (CPU, memory, disk, network) with a sparkline of recent
 * history each, from the node's /api/system. A homeportd without that route (older, or
 * not sampling) shows nothing and is asked again now and then.
 */
import { createResource, For, onCleanup, Show } from 'solid-js';
import { api, optional } from '../api.ts';
import { bytes, percent } from '../format.ts';
import { data } from '../state.ts';
import { Sparkline } from './Sparkline.tsx';
import { systemSeries, type SystemSeries } from './system-series.ts';

const REFRESH_MS = 5000;
const RETRY_MISSING_MS = 60_000;

export function SystemPanel(props: { node: string }) {
  let missingSince = 0;
  const [stats, { refetch }] = createResource(async (): Promise<SystemSeries[] | null> => {
    if (missingSince && Date.now() - missingSince < RETRY_MISSING_MS) return null;
    const raw = await optional(api.system(props.node)).catch(() => null);
    missingSince = raw === null ? Date.now() : 0;
    return raw === null ? null : systemSeries(raw);
  });
  const timer = setInterval(() => !document.hidden && refetch(), REFRESH_MS);
  const off = data.onEvent((e) => e.nodeId === props.node && e.topic === 'system' && refetch());
  onCleanup(() => {
    clearInterval(timer);
    off();
  });
  const format = (s: SystemSeries, v: number) => (s.unit === 'percent' ? percent(v) : `${bytes(v)}/s`);
  return (
    <Show when={stats.latest?.length}>
      <ul class="system" aria-label="System">
        <For each={stats.latest!}>
          {(s) => (
            <li class="stat" data-stat={s.key}>
              <span class="stat-label">{s.label}</span>
              <span class="stat-value">{format(s, s.values[s.values.length - 1] ?? 0)}</span>
              <span class="stat-detail">{s.detail ?? '\u00a0'}</span>
              <Sparkline values={s.values} max={s.unit === 'percent' ? 100 : undefined} label={`${s.label} over the last minutes`} />
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
