/** @module A small inline SVG line chart: no chart library, one path. */
import { createMemo } from 'solid-js';

export function Sparkline(props: { values: readonly number[]; max?: number; label: string; width?: number; height?: number }) {
  const w = () => props.width ?? 120;
  const h = () => props.height ?? 32;
  const path = createMemo(() => {
    const values = props.values;
    if (values.length < 2) return '';
    const max = props.max ?? Math.max(1, ...values);
    const step = w() / (values.length - 1);
    return values.map((v, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(h() - 1 - (Math.min(v, max) / max) * (h() - 2)).toFixed(1)}`).join('');
  });
  return (
    <svg class="sparkline" viewBox={`0 0 ${w()} ${h()}`} width={w()} height={h()} role="img" aria-label={props.label} preserveAspectRatio="none">
      <path d={path() ? `${path()}L${w()},${h()}L0,${h()}Z` : ''} class="area" />
      <path d={path()} class="line" />
    </svg>
  );
}
