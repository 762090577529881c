/**
 * The task console's pure parts: the Markdown renderer (web/src/markdown.ts) lets no
 * HTML through and links only to http(s); the transcript (web/src/transcript.ts) folds
 * task events in seq order, each once, streaming deltas into the assistant's text,
 * pairing tool calls with their results and dropping a turn's text that is retried.
 */
import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../web/src/api.ts';
import { markdown } from '../web/src/markdown.ts';
import { apply, emptyTranscript } from '../web/src/transcript.ts';

describe('markdown', () => {
  it('should escape every HTML tag and attribute', () => {
    const html = markdown('<img src=x onerror="alert(1)"> & <script>alert(2)</script>');
    expect(html).toBe('<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;script&gt;alert(2)&lt;/script&gt;</p>');
  });

  it('should link http(s) addresses only, and never let a link break out of its attribute', () => {
    expect(markdown('[docs](https://example.com/a_b_c?x=1&y=2)')).toBe('<p><a href="https://example.com/a_b_c?x=1&amp;y=2" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>');
    expect(markdown('[click](javascript:alert(1))')).toBe('<p>[click](javascript:alert(1))</p>');
    expect(markdown('[x](data:text/html,hi)')).not.toContain('<a');
    expect(markdown('[x](https://e.com/"onmouseover="alert)')).toBe('<p><a href="https://e.com/&quot;onmouseover=&quot;alert" target="_blank" rel="noopener noreferrer nofollow">x</a></p>');
    expect(markdown('[<b>x</b>](https://e.com/)')).toBe('<p><a href="https://e.com/" target="_blank" rel="noopener noreferrer nofollow">&lt;b&gt;x&lt;/b&gt;</a></p>');
  });

  it('should render paragraphs, code, emphasis and lists', () => {
    expect(markdown('Hello **bold** and *it* and `a <b>`\nnext line\n\nSecond')).toBe('<p>Hello <strong>bold</strong> and <em>it</em> and <code>a &lt;b&gt;</code><br>next line</p><p>Second</p>');
    expect(markdown('- one\n- two\n\n1. first\n2. second')).toBe('<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>');
    expect(markdown('```ts\nconst a = "<x>";\n```\nafter')).toBe('<pre><code data-lang="ts">const a = &quot;&lt;x&gt;&quot;;</code></pre><p>after</p>');
    // A fence still open (the answer is streaming) runs to the end.
    expect(markdown('Look:\n```\nline 1')).toBe('<p>Look:</p><pre><code>line 1</code></pre>');
    // Underscores inside words stay.
    expect(markdown('snake_case_name')).toBe('<p>snake_case_name</p>');
  });
});

let seq = 0;
const event = (type: string, payload: Record<string, unknown> = {}): TaskEvent => ({ seq: ++seq, type, at: 0, payload });

describe('transcript', () => {
  it('should stream deltas into one assistant entry, settled by the final text', () => {
    seq = 0;
    const t = emptyTranscript();
    for (const e of [event('status', { status: 'queued' }), event('user.message', { text: 'Fix it' }), event('assistant.delta', { text: 'Let me ' }), event('assistant.delta', { text: 'look.' })]) apply(t, e);
    expect(t.entries.at(-1)).toMatchObject({ kind: 'assistant', text: 'Let me look.', streaming: true });
    apply(t, event('assistant.text', { text: 'Let me look.' }));
    expect(t.entries.map((e) => e.kind)).toEqual(['note', 'user', 'assistant']);
    expect(t.entries.at(-1)).toMatchObject({ text: 'Let me look.', streaming: false });
  });

  it('should apply each event once, whatever a resumed stream repeats', () => {
    seq = 0;
    const events = [event('user.message', { text: 'Go' }), event('assistant.delta', { text: 'one ' }), event('assistant.delta', { text: 'two' })];
    const t = emptyTranscript();
    for (const e of [...events.slice(0, 2), ...events]) apply(t, e);
    expect(t.entries.at(-1)).toMatchObject({ text: 'one two' });
    expect(t.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(t.last).toBe(3);
  });

  it('should pair tool results with their calls and drop a retried turn', () => {
    seq = 0;
    const t = emptyTranscript();
    apply(t, event('tool.call', { id: 'a', name: 'bash', input: { command: 'ls' } }));
    apply(t, event('tool.result', { id: 'a', name: 'bash', content: 'README.md', isError: false, ms: 12 }));
    expect(t.entries).toEqual([{ kind: 'tool', seq: 1, id: 'a', name: 'bash', input: { command: 'ls' }, result: { content: 'README.md', isError: false, ms: 12 } }]);
    apply(t, event('assistant.delta', { text: 'Half a sen' }));
    apply(t, event('status', { status: 'retrying', detail: 'overloaded' }));
    expect(t.entries.map((e) => e.kind)).toEqual(['tool', 'note']);
    expect(t.entries.at(-1)).toMatchObject({ tone: 'warn', text: 'Retrying: overloaded' });
  });

  it('should end a run with its status, without repeating the reason its error gave', () => {
    seq = 0;
    const t = emptyTranscript();
    apply(t, event('error', { message: 'the key was rejected' }));
    apply(t, event('status', { status: 'failed', final: true, reason: 'the key was rejected' }));
    expect(t.entries.map((e) => e.kind === 'note' && e.text)).toEqual(['Error: the key was rejected', 'Failed']);
    apply(t, event('status', { status: 'completed', final: true, reason: null }));
    expect(t.entries.at(-1)).toMatchObject({ tone: 'info', text: 'Completed' });
  });
});
