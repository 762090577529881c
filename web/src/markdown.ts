/**
 * @module
 * A small, safe Markdown renderer for agent transcripts: everything is HTML-escaped
 * first, then a few constructs are allowed back — paragraphs, code fences, inline
 * code, **bold**, *italic*, lists, and [links](https://…) to http(s) addresses only
 * (they open in a new tab without referrer). No raw HTML ever passes through.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const emphasis = (html: string) => html.replace(/\*\*(?=\S)(.+?)\*\*/g, '<strong>$1</strong>').replace(/(^|[^\w*])([*_])(?=\S)(.+?)\2(?!\w)/g, '$1<em>$3</em>');

/** One line's inline constructs: code spans first (nothing inside them is touched), then links, then emphasis outside addresses. */
export function inline(text: string): string {
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, i) =>
      i % 2
        ? `<code>${escapeHtml(part.slice(1, -1))}</code>`
        : escapeHtml(part)
            .split(/(\[[^\]\n]+\]\(https?:\/\/[^\s()]+\))/)
            .map((piece, j) => {
              if (!(j % 2)) return emphasis(piece);
              const [, label, href] = /^\[(.+)\]\((.+)\)$/.exec(piece)!;
              return `<a href="${href}" target="_blank" rel="noopener noreferrer nofollow">${emphasis(label)}</a>`;
            })
            .join(''),
    )
    .join('');
}

const ITEM = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

/** The whole text as HTML. */
export function markdown(source: string): string {
  const out: string[] = [];
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;
  const flush = () => {
    if (paragraph.length) out.push(`<p>${paragraph.map(inline).join('<br>')}</p>`);
    paragraph = [];
    if (list) out.push(`<${list.ordered ? 'ol' : 'ul'}>${list.items.map((item) => `<li>${inline(item)}</li>`).join('')}</${list.ordered ? 'ol' : 'ul'}>`);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s{0,3}(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      // An unclosed fence runs to the end (a streaming answer is often mid-block).
      while (++i < lines.length && !lines[i].trimStart().startsWith(fence[1])) code.push(lines[i]);
      out.push(`<pre><code${fence[2] ? ` data-lang="${escapeHtml(fence[2])}"` : ''}>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    const item = ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]);
      if (paragraph.length || (list && list.ordered !== ordered)) flush();
      list ??= { ordered, items: [] };
      list.items.push(item[2]);
    } else if (!line.trim()) flush();
    else if (list && /^\s+\S/.test(line)) list.items[list.items.length - 1] += ` ${line.trim()}`;
    else {
      if (list) flush();
      paragraph.push(line.replace(/^#{1,6}\s+/, ''));
    }
  }
  flush();
  return out.join('');
}
