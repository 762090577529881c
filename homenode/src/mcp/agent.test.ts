/**
 * An agent run using MCP tools: runAgent (the real @anthropic-ai/sdk against the fake
 * Anthropic server, test/fakes/anthropic.ts) with the hub's agentTools(), backed by the
 * SDK-written fixture MCP server running as a real process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAnthropic, text, toolUse, type FakeMessagesRequest } from '../../../test/fakes/anthropic.ts';
import { runAgent, type AgentEvent } from '../agents/loop.ts';
import { openStore } from '../db/index.ts';
import { SecretStore, Vault } from '../vault.ts';
import { McpHub } from './hub.ts';
import { McpRegistry } from './registry.ts';

const FIXTURE = resolve(fileURLToPath(new URL('../../../test/fixtures/mcp-server.mjs', import.meta.url)));
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('MCP tools in an agent run', () => {
  it('should offer <server>__<tool> to the model, run the call on the MCP server and send the result back', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homeport-mcp-agent-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = await openStore(dir);
    cleanup.push(() => store.close());
    const hub = new McpHub({ registry: new McpRegistry(store, new SecretStore(store, Vault.fromDataDir(dir))), defaultCwd: dir });
    cleanup.push(() => hub.stopAll());
    await hub.register({ name: 'notes', command: process.execPath, args: [FIXTURE] });
    await hub.start('notes');
    await hub.setToolEnabled('notes', 'crash', false);

    const fake = await FakeAnthropic.start();
    cleanup.push(() => fake.stop());
    let second: FakeMessagesRequest | undefined;
    fake.enqueue({ content: [text('Let me check.'), toolUse('notes__echo', { text: 'from the MCP server ✓' }), toolUse('notes__fail', {})] }, (request) => {
      second = request;
      return { content: [text('Done.')] };
    });

    const events: AgentEvent[] = [];
    const result = await runAgent({
      client: new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url }),
      model: 'claude-sonnet-5-5',
      history: [],
      prompt: 'Use the notes server',
      tools: hub.agentTools(),
      limits: { maxTurns: 5, maxTokens: 1_000_000, maxCostUsd: 10, wallClockMs: 30_000 },
      signal: new AbortController().signal,
      emit: async (event) => void events.push(event),
    });

    expect(result.outcome).toBe('completed');
    // the model was offered the enabled tools under their agent names, with their schemas
    const offered = fake.requests.find((r) => r.path === '/v1/messages')!.body.tools as { name: string; input_schema: unknown }[];
    expect(offered.map((t) => t.name)).toEqual(['notes__echo', 'notes__env', 'notes__spawn_grandchild', 'notes__fail']);
    expect(offered[0].input_schema).toMatchObject({ type: 'object', required: ['text'] });
    // the results the MCP server gave reached the model
    expect(second!.toolResults.map((r) => [r.content, r.is_error])).toEqual([
      ['from the MCP server ✓', false],
      ['this tool always fails', true],
    ]);
    expect(events.filter((e) => e.type === 'tool.result').map((e) => (e as { name: string }).name)).toEqual(['notes__echo', 'notes__fail']);
  });
});
