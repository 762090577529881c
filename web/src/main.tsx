/* @refresh reload */
/**
 * @module
 * The app's entry: the router and its screens. The dashboard and sign-in are in the
 * first bundle; the other screens load when first opened.
 */
import { Route, Router } from '@solidjs/router';
import { lazy } from 'solid-js';
import { render } from 'solid-js/web';
import { App } from './App.tsx';
import Dashboard from './routes/Dashboard.tsx';
import SignIn, { Pending } from './routes/SignIn.tsx';
import { NodeRedirect, NodeTaskRedirect } from './routes/Redirects.tsx';
import { data } from './state.ts';
import './style.css';

// Ask for the dashboard's data alongside "who am I" (state.ts starts that one).
data.prefetch();

const Admin = lazy(() => import('./routes/Admin.tsx'));
const Nodes = lazy(() => import('./routes/Nodes.tsx'));
const Settings = lazy(() => import('./routes/Settings.tsx'));
const Repo = lazy(() => import('./routes/Repo.tsx'));
const AccessLog = lazy(() => import('./routes/AccessLog.tsx'));
const Tasks = lazy(() => import('./routes/Tasks.tsx'));
const Task = lazy(() => import('./routes/Task.tsx'));
const Services = lazy(() => import('./routes/Services.tsx'));
const Mcp = lazy(() => import('./routes/Mcp.tsx'));
const Webhooks = lazy(() => import('./routes/Webhooks.tsx'));

function NotFound() {
  return (
    <section class="card">
      <h1>Not found</h1>
      <p>
        Nothing lives at this address. <a href="/">Back to the dashboard</a>
      </p>
    </section>
  );
}

render(
  () => (
    <Router root={App}>
      <Route path="/" component={Dashboard} />
      <Route path="/signin" component={SignIn} />
      <Route path="/pending" component={Pending} />
      <Route path="/admin" component={Admin} />
      <Route path="/nodes" component={Nodes} />
      <Route path="/settings" component={Settings} />
      <Route path="/n/:node/r/:repo" component={Repo} />
      <Route path="/n/:node/p/:port/log" component={AccessLog} />
      <Route path="/tasks" component={Tasks} />
      <Route path="/n/:node/tasks/:id" component={Task} />
      <Route path="/services" component={Services} />
      <Route path="/mcp" component={Mcp} />
      <Route path="/webhooks" component={Webhooks} />
      {/* the links webhook comments and answers carry (docs/webhooks.md) */}
      <Route path="/nodes/:node/tasks/:id" component={NodeTaskRedirect} />
      <Route path="/nodes/:node" component={NodeRedirect} />
      <Route path="*" component={NotFound} />
    </Router>
  ),
  document.getElementById('app')!,
);
