/**
 * Workspace settings: members, domain invites, enforced SSO, projects and tokens, in a
 * sidebar, a main-area page and the ipywidgets panel's view.
 *
 * Every view is the same React page (`settings/view.tsx`): it reads and changes the
 * policy through the REST API as the person looking, with controls enabled from the
 * permissions the server answers. Nothing here requires JupyterLab's shell, so the
 * plugins also run in Notebook 7.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';

import { MODULE_NAME, MODULE_VERSION } from './settings/version';
import { SettingsWidget, settingsIcon } from './settings/widget';

/** The command that opens the settings page (palette, context menu, other plugins). */
export const OPEN_SETTINGS = 'workspace-perms:open-settings';

const MAIN_ID = 'workspace-perms-settings';
const SIDEBAR_ID = 'workspace-perms-settings-sidebar';

/** The workspace and project a server path names (`acme`, `acme/analysis/x.ipynb`). */
function placeOf(path: string): { workspace: string | null; project: string | null } {
  const parts = path.split('/').filter(p => p);
  return { workspace: parts[0] ?? null, project: parts[1] ?? null };
}

/** The folder selected in the file browser, if any. */
function selectedFolder(factory: IFileBrowserFactory | null): string | null {
  const browser = factory?.tracker.currentWidget;
  if (!browser) {
    return null;
  }
  const item = browser.selectedItems().next();
  if (item.done || !item.value || item.value.type !== 'directory') {
    return null;
  }
  return item.value.path;
}

const settingsPage: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:settings',
  description:
    'Workspace settings: members, domain invites, enforced SSO, projects and tokens.',
  autoStart: true,
  optional: [ICommandPalette, IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    factory: IFileBrowserFactory | null
  ) => {
    let page: MainAreaWidget<SettingsWidget> | null = null;

    const sidebar = new SettingsWidget();
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = settingsIcon;
    sidebar.title.caption = 'Workspace settings';
    app.shell.add(sidebar, 'left', { rank: 650 });

    app.commands.addCommand(OPEN_SETTINGS, {
      label: 'Workspace settings',
      caption: 'Members, domain invites, enforced SSO, projects and access tokens',
      icon: args => (args.fromFileBrowser ? settingsIcon : undefined),
      // in the file browser: on a workspace folder or a folder directly in one
      isVisible: args => {
        if (!args.fromFileBrowser) {
          return true;
        }
        const depth = (selectedFolder(factory) ?? '').split('/').filter(p => p).length;
        return depth === 1 || depth === 2;
      },
      execute: args => {
        let workspace = (args.workspace as string | undefined) ?? null;
        let project = (args.project as string | undefined) ?? null;
        if (args.fromFileBrowser) {
          const folder = selectedFolder(factory);
          if (folder) {
            ({ workspace, project } = placeOf(folder));
          }
        }
        if (!page || page.isDisposed) {
          const content = new SettingsWidget({ workspace, project });
          page = new MainAreaWidget({ content });
          page.id = MAIN_ID;
          page.title.label = 'Workspace settings';
          page.title.icon = settingsIcon;
          page.title.closable = true;
          app.shell.add(page, 'main');
          if (!page.isAttached) {
            // Notebook 7 keeps one widget in its main area: use the sidebar there
            page.dispose();
            page = null;
          }
        } else {
          page.content.select(workspace, project);
        }
        if (!page) {
          sidebar.select(workspace, project);
        }
        app.shell.activateById(page ? page.id : sidebar.id);
      }
    });

    palette?.addItem({ command: OPEN_SETTINGS, category: 'Workspace' });
    app.contextMenu.addItem({
      command: OPEN_SETTINGS,
      args: { fromFileBrowser: true },
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 60
    });
  }
};

/**
 * Registers the ipywidgets panel's model and view with the widget manager, when
 * ipywidgets is installed. `@jupyter-widgets/base` is a shared package provided by
 * ipywidgets' own extension, so it is loaded only here and only if present: without
 * ipywidgets every other plugin still works.
 */
const panelWidget: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:panel-widget',
  description: 'The WorkspacePanel ipywidget: the settings page inside a notebook.',
  autoStart: true,
  activate: async (app: JupyterFrontEnd) => {
    let base: typeof import('@jupyter-widgets/base');
    try {
      base = await import('@jupyter-widgets/base');
    } catch {
      return; // no ipywidgets: nothing to register
    }
    const registry = await app.resolveOptionalService(base.IJupyterWidgetRegistry);
    if (!registry) {
      return;
    }
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: async () => {
        const views = await import('./settings/ipywidget');
        return {
          WorkspacePanelModel: views.WorkspacePanelModel,
          WorkspacePanelView: views.WorkspacePanelView
        };
      }
    });
  }
};

export const settingsPlugins: JupyterFrontEndPlugin<any>[] = [settingsPage, panelWidget];
