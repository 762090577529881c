/**
 * @module
 * "Open in editor": the repo's folder in the node's code-server (browser VS Code),
 * through the edge's owner-only node API route. The tab opens at once, while the click
 * still counts as one (a tab opened after an await is taken for a popup and blocked),
 * then goes to code-server once the node has started it, or closes again when the node
 * says it cannot (code-server not installed: its message says how to install it).
 */
import { api } from './api.ts';

/** Resolves with null once the editor opened, or with the node's reason why not. */
export async function openInEditor(node: string, repo: string): Promise<string | null> {
  const tab = window.open('', '_blank');
  try {
    const url = await api.openEditor(node, repo);
    if (!tab) location.assign(url);
    else {
      tab.opener = null;
      tab.location.href = url;
    }
    return null;
  } catch (error) {
    tab?.close();
    return error instanceof Error ? error.message : String(error);
  }
}
