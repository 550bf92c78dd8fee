/**
 * The demo's persona switcher, in the who-am-I popover: only where the server runs in
 * demo mode (it says so in the page config) and this browser opened the demo's
 * landing page with the server's token (else the server lists no personas and says
 * where the right link comes from).
 *
 * Switching POSTs the persona to the server, which replaces the login cookie; the
 * page then reloads as that person. The server decides everything they may do.
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { DEMO } from './generated';

/** A persona of the demo world, as the server lists it. */
export interface IPersona {
  key: string;
  name: string;
  email: string;
  shows: string;
  tries: string;
  current: boolean;
}

/** `GET workspace-perms/demo/personas`. */
export interface IPersonas {
  personas: IPersona[];
  message?: string;
  landing_url?: string;
}

/** Whether the server runs in demo mode. */
export function isDemo(): boolean {
  return String(PageConfig.getOption(DEMO.pageConfigKey)) === 'true';
}

function url(path: string, settings: ServerConnection.ISettings): string {
  return URLExt.join(settings.baseUrl, path);
}

async function failure(response: Response): Promise<Error> {
  let message = response.statusText;
  try {
    message = ((await response.json()) as { message?: string }).message ?? message;
  } catch {
    // not JSON: keep the status text
  }
  return new Error(message);
}

/** The personas this browser may switch to (none, with a message, without access). */
export async function fetchPersonas(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IPersonas> {
  const response = await ServerConnection.makeRequest(
    url(DEMO.personasPath, settings),
    { method: 'GET' },
    settings
  );
  if (!response.ok) {
    throw await failure(response);
  }
  return (await response.json()) as IPersonas;
}

/** Sign this browser in as `key` (the server sets the login cookie), then reload. */
export async function switchPersona(
  key: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<void> {
  const response = await ServerConnection.makeRequest(
    url(DEMO.signInPath, settings),
    {
      method: 'POST',
      body: new URLSearchParams({ persona: key }),
      headers: { Accept: 'application/json' }
    },
    settings
  );
  if (!response.ok) {
    throw await failure(response);
  }
  window.location.reload();
}

/**
 * The popover's "Switch persona" section: filled once the server answered; a button
 * per other persona; the note that two personas at once need two browser profiles.
 */
export function switcherNode(personas: Promise<IPersonas>): HTMLElement {
  const node = document.createElement('section');
  node.className = 'jp-WorkspacePerms-demo';
  node.setAttribute('aria-label', 'Switch persona');
  const heading = document.createElement('h4');
  heading.textContent = 'Demo: switch persona';
  const status = document.createElement('p');
  status.className = 'jp-WorkspacePerms-demo-status';
  status.textContent = 'Loading the personas…';
  node.append(heading, status);
  personas.then(
    answer => {
      const others = answer.personas.filter(p => !p.current);
      if (others.length === 0) {
        status.textContent = answer.message ?? 'No other persona to switch to.';
        return;
      }
      status.textContent =
        'One browser is one person at a time: to be two personas at once, use two ' +
        'browser profiles (or a private window).';
      const list = document.createElement('ul');
      for (const persona of others) {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'jp-Button jp-mod-styled jp-WorkspacePerms-demo-persona';
        button.dataset.persona = persona.key;
        button.textContent = `${persona.name} · ${persona.shows}`;
        button.title = persona.tries;
        button.addEventListener('click', () => {
          button.disabled = true;
          status.textContent = `Signing in as ${persona.name}…`;
          switchPersona(persona.key).catch((error: Error) => {
            button.disabled = false;
            status.textContent = `Could not switch: ${error.message}`;
          });
        });
        item.appendChild(button);
        list.appendChild(item);
      }
      node.appendChild(list);
    },
    (error: Error) => {
      status.textContent = `Could not list the personas: ${error.message}`;
    }
  );
  return node;
}
