/**
 * @module
 * The MCP hub's routes of the node API (api.ts mounts them):
 *
 *   GET    /api/mcp/servers                         servers with their status
 *   POST   /api/mcp/servers                         register {name, command, args?, env?, secretEnv?, cwd?}
 *   GET    /api/mcp/servers/:name
 *   PUT    /api/mcp/servers/:name                   change {command?, args?, env?, secretEnv?: {VAR: value|null}, cwd?}
 *   DELETE /api/mcp/servers/:name                   stop it and forget it (its secrets too)
 *   POST   /api/mcp/servers/:name/start|stop|restart
 *   GET    /api/mcp/servers/:name/tools             its tools, agent names, enabled, problems
 *   POST   /api/mcp/servers/:name/tools/:tool/call  {arguments} → the tool's result
 *   PUT    /api/mcp/servers/:name/tools/:tool       {enabled} (offered to agents or not)
 *   GET    /api/mcp/servers/:name/logs?tail=N       stderr and the hub's notes
 *
 * Secret values go in and never come out: views list secret variable names only.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { jsonBody } from '@homeport/shared/json-body';
import { mcpToolCallBody, mcpToolEnabledBody, registerMcpServerBody, updateMcpServerBody } from '@homeport/shared/schemas/node-api';
import type { ApiEnv } from '../api.ts';
import { answerError } from '../api-errors.ts';
import { McpHubError, type McpHub } from './hub.ts';

export function mcpApi(hub: McpHub, log?: (message: string) => void) {
  const app = new Hono<ApiEnv>();
  app.onError((error, c) => {
    if (error instanceof McpHubError) return c.json({ error: error.message }, error.status);
    return answerError(error, c, log);
  });

  app.get('/api/mcp/servers', async (c) => c.json({ servers: await hub.list() }));
  app.post('/api/mcp/servers', jsonBody(registerMcpServerBody), async (c) => c.json({ server: await hub.register(c.req.valid('json')) }, 201));
  app.get('/api/mcp/servers/:name', async (c) => c.json({ server: await hub.get(c.req.param('name')) }));
  app.put('/api/mcp/servers/:name', jsonBody(updateMcpServerBody), async (c) => c.json({ server: await hub.update(c.req.param('name'), c.req.valid('json')) }));
  app.delete('/api/mcp/servers/:name', async (c) => {
    await hub.remove(c.req.param('name'));
    return c.json({ removed: c.req.param('name') });
  });

  app.post('/api/mcp/servers/:name/start', async (c) => c.json({ status: await hub.start(c.req.param('name')) }));
  app.post('/api/mcp/servers/:name/stop', async (c) => c.json({ status: await hub.stop(c.req.param('name')) }));
  app.post('/api/mcp/servers/:name/restart', async (c) => c.json({ status: await hub.restart(c.req.param('name')) }));

  app.get('/api/mcp/servers/:name/tools', async (c) => c.json({ tools: await hub.tools(c.req.param('name')) }));
  app.post('/api/mcp/servers/:name/tools/:tool/call', jsonBody(mcpToolCallBody), async (c) => {
    const result = await hub.call(c.req.param('name'), c.req.param('tool'), c.req.valid('json').arguments ?? {}, { signal: c.req.raw.signal });
    return c.json({ result });
  });
  app.put('/api/mcp/servers/:name/tools/:tool', jsonBody(mcpToolEnabledBody), async (c) => {
    const { enabled } = c.req.valid('json');
    return c.json({ server: await hub.setToolEnabled(c.req.param('name'), c.req.param('tool'), enabled) });
  });

  app.get('/api/mcp/servers/:name/logs', async (c) => {
    const raw = c.req.query('tail');
    const tail = raw === undefined ? 200 : Number(raw);
    if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw new HTTPException(400, { message: 'tail is a number of lines from 0 to 10000' });
    const server = await hub.get(c.req.param('name'));
    return c.json({ name: server.name, lines: hub.logs(server.name, tail) });
  });

  return app;
}
