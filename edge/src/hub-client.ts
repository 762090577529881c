/**
 * @module
 * How the Worker talks to a node's hub object: one stub per node id, internal route
 * headers on every request (the hub strips nothing else from visitors' requests).
 */
import type { Env } from './env.ts';
import { HUB_NODE, HUB_ROUTE } from './node-hub.ts';

export function hubOf(env: Env, node: string) {
  return env.NODE_HUB.get(env.NODE_HUB.idFromName(node));
}

export function hubRequest(url: string, route: string, node: string, init?: RequestInit): Request {
  const request = new Request(url, init);
  request.headers.set(HUB_ROUTE, route);
  request.headers.set(HUB_NODE, node);
  return request;
}

/** Calls one of the hub's internal routes and reads its JSON answer. */
export async function hubCall<T>(env: Env, node: string, route: string, body?: unknown): Promise<T> {
  const init: RequestInit = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  const res = await hubOf(env, node).fetch(hubRequest('https://hub/' + route, route, node, init));
  return (await res.json()) as T;
}
