/**
 * @module
 * Addresses other parts of Homeport hand out that the app keeps elsewhere: webhook
 * tracking comments and answers link `/nodes/<node>/tasks/<task id>` (a live run) and
 * `/nodes/<node>` (a task queued for an offline node).
 */
import { Navigate, useParams } from '@solidjs/router';
import { taskPath } from '../repos.ts';

export function NodeTaskRedirect() {
  const params = useParams<{ node: string; id: string }>();
  return <Navigate href={taskPath(params.node, params.id)} />;
}

export function NodeRedirect() {
  return <Navigate href="/nodes" />;
}
