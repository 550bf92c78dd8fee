/**
 * Who am I, read-only cells where the server would refuse edits, the viewer banner, and
 * the join and SSO prompts: the plugins that show each person what the server allows.
 *
 * Only the session model is required by the others; every JupyterLab-only token is
 * optional, so the same plugins load in Notebook 7 (no status bar there: the role item
 * goes to the top area).
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { ISearchProviderRegistry } from '@jupyterlab/documentsearch';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Token } from '@lumino/coreutils';

import { Prompts } from './prompts';
import { ReadOnlyNotebooks } from './readonly';
import { guardSearch } from './search';
import { MeModel } from './session';
import { WhoAmI } from './whoami';

/**
 * The signed-in person's `GET me`, kept fresh. Plugins that change the policy through
 * the REST API call its `refresh()` afterwards (or `requestRefresh()` from
 * `./session`), so the role item, locks and prompts follow at once.
 */
export const IWorkspaceSession = new Token<MeModel>(
  'jupyter-workspace-perms:IWorkspaceSession',
  'Who is signed in and what the server lets them do where (GET me).'
);

const session: JupyterFrontEndPlugin<MeModel> = {
  id: 'jupyter-workspace-perms:core',
  description: 'Keeps `GET /api/workspace-perms/me` fresh for the other plugins.',
  autoStart: true,
  provides: IWorkspaceSession,
  activate: async (): Promise<MeModel> => {
    const model = new MeModel();
    // Before documents open: a notebook's kernel preference is decided from it.
    await model.refresh();
    return model;
  }
};

const DEFAULT_FILE_BROWSER =
  '@jupyterlab/filebrowser-extension:default-file-browser';

/**
 * The default file browser if the page has one once it has started, else null. Asking
 * for the token would activate its plugin on pages that have none (Notebook 7's
 * notebook page), and that plugin then runs a file browser command the page lacks.
 * Never awaited inside `activate`: the page starts only after every plugin activated.
 */
async function existingFileBrowser(
  app: JupyterFrontEnd
): Promise<IDefaultFileBrowser | null> {
  await app.started;
  if (!app.isPluginActivated(DEFAULT_FILE_BROWSER)) {
    return null;
  }
  return app.resolveOptionalService(IDefaultFileBrowser);
}

/** The path of a document widget, or null. */
function documentPath(widget: unknown): string | null {
  const context = (widget as Partial<IDocumentWidget> | null)?.context;
  return context && typeof context.path === 'string' ? context.path : null;
}

const readOnly: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:read-only',
  description:
    'Read-only cells, disabled cell commands, find and replace that skips read-only ' +
    'cells, and no kernel where the server would refuse.',
  autoStart: true,
  requires: [IWorkspaceSession],
  optional: [INotebookTracker, ISearchProviderRegistry],
  activate: (
    app: JupyterFrontEnd,
    me: MeModel,
    tracker: INotebookTracker | null,
    search: ISearchProviderRegistry | null
  ) => {
    const notebooks = new ReadOnlyNotebooks(app, me, () => {
      if (tracker) {
        return tracker.currentWidget;
      }
      const current = app.shell.currentWidget;
      return current instanceof NotebookPanel ? current : null;
    });
    if (search) {
      guardSearch(search, panel => notebooks.lockReason(panel));
    }
  }
};

const whoami: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:whoami',
  description: 'Shows "you · your role here" and what the role allows.',
  autoStart: true,
  requires: [IWorkspaceSession],
  optional: [IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    me: MeModel,
    statusBar: IStatusBar | null
  ) => {
    let browser: IDefaultFileBrowser | null = null;
    const locate = () => {
      const path = documentPath(app.shell.currentWidget);
      if (path !== null) {
        return { path, isDirectory: false };
      }
      return browser ? { path: browser.model.path, isDirectory: true } : null;
    };
    const item = new WhoAmI(me, locate, statusBar !== null);
    const update = () => item.update();
    app.shell.currentChanged?.connect(update);
    void existingFileBrowser(app).then(found => {
      browser = found;
      browser?.model.pathChanged.connect(update);
      update();
    });
    if (statusBar) {
      statusBar.registerStatusItem('jupyter-workspace-perms:whoami', {
        item,
        align: 'right',
        rank: -1
      });
    } else {
      app.shell.add(item, 'top', { rank: 1000 });
    }
  }
};

const prompts: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:prompts',
  description: 'Join and enforced-SSO prompts where the file browser is.',
  autoStart: true,
  requires: [IWorkspaceSession],
  activate: (app: JupyterFrontEnd, me: MeModel) => {
    // Once the page has started: see existingFileBrowser.
    void existingFileBrowser(app).then(browser => {
      const widget = new Prompts(me, () => void browser?.model.refresh());
      if (browser) {
        browser.insertWidget(0, widget);
      } else {
        app.shell.add(widget, 'top', { rank: 1001 });
      }
    });
  }
};

export const corePlugins: JupyterFrontEndPlugin<any>[] = [
  session,
  readOnly,
  whoami,
  prompts
];
