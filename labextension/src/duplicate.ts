/**
 * "Duplicate to workspace…": the file browser's context menu on a project folder.
 *
 * The item shows where `GET me` says the person may read the project
 * (`project:read`), and the dialog offers only the workspaces where `me` says they hold
 * `workspace:create_project`. The copy itself is one REST call made as the person
 * (`POST …/projects/{project}/duplicate`): the server decides, copies and says what it
 * left behind; a refusal shows the server's message. On success the file browser opens
 * the new project folder.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { FileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Widget } from '@lumino/widgets';

import { ApiError, requestAPI } from './api';
import { IWorkspaceSession } from './core';
import {
  IMeWorkspace,
  IProjectSummary,
  MeModel,
  locate,
  requestRefresh
} from './session';

/** The command (the file browser's context menu; other plugins may run it too). */
export const DUPLICATE_PROJECT = 'workspace-perms:duplicate-project';

/** What the dialog asks for (`ProjectDuplicate` in docs/openapi.yaml). */
export interface IDuplicateRequest {
  to_workspace: string;
  name?: string;
}

/** One kind of thing the copy left behind (`LeftBehind`). */
export interface ILeftBehind {
  what: string;
  count?: number;
  paths?: string[];
  note?: string;
}

/** The server's answer to a duplicate (`ProjectDuplicated`). */
export interface IDuplicated {
  project: { name: string; workspace: string };
  copied: { files: number; folders: number; bytes: number };
  left_behind: ILeftBehind[];
}

/** The project folder selected in a file browser, with its workspace, if any. */
interface ISelection {
  browser: FileBrowser;
  workspace: string;
  project: string;
}

function selectedProject(factory: IFileBrowserFactory | null): ISelection | null {
  const browser = factory?.tracker.currentWidget ?? null;
  if (!browser) {
    return null;
  }
  const item = browser.selectedItems().next();
  if (item.done || !item.value || item.value.type !== 'directory') {
    return null;
  }
  const { workspace, project } = locate(item.value.path, true);
  const depth = item.value.path.split('/').filter(p => p).length;
  if (workspace === null || project === null || depth !== 2) {
    return null;
  }
  return { browser, workspace, project };
}

/** The project as `me` lists it, when the person may read it. */
function readable(
  me: MeModel,
  selection: ISelection | null
): IProjectSummary | null {
  if (selection === null) {
    return null;
  }
  const project = me
    .workspace(selection.workspace)
    ?.projects.find(p => p.name === selection.project && !p.name_only);
  return project && project.permissions.includes('project:read') ? project : null;
}

/** Workspaces where `me` says the person may create projects. */
function targets(me: MeModel): IMeWorkspace[] {
  return (me.me?.workspaces ?? []).filter(w =>
    w.permissions.includes('workspace:create_project')
  );
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = document.createElement('label');
  label.style.display = 'block';
  label.style.margin = '0 0 12px';
  const caption = document.createElement('div');
  caption.textContent = text;
  caption.style.marginBottom = '4px';
  label.append(caption, control);
  return label;
}

/** The dialog's form: the target workspace and an optional new name. */
class DuplicateForm
  extends Widget
  implements Dialog.IBodyWidget<IDuplicateRequest>
{
  constructor(source: ISelection, choices: IMeWorkspace[]) {
    super();
    this.addClass('jp-WorkspacePerms-duplicate');
    this.node.style.minWidth = '360px';
    this._select = document.createElement('select');
    this._select.className = 'jp-mod-styled';
    this._select.setAttribute('aria-label', 'Target workspace');
    for (const ws of choices) {
      const option = document.createElement('option');
      option.value = ws.slug;
      option.textContent =
        ws.name && ws.name !== ws.slug ? `${ws.name} (${ws.slug})` : ws.slug;
      this._select.appendChild(option);
    }
    const other = choices.find(w => w.slug !== source.workspace);
    this._select.value = (other ?? choices[0]).slug;
    this._name = document.createElement('input');
    this._name.className = 'jp-mod-styled';
    this._name.type = 'text';
    this._name.setAttribute('aria-label', 'New project name');
    this._name.placeholder = `${source.project} (or ${source.project}-copy if taken)`;
    this._name.style.width = '100%';
    this._name.style.boxSizing = 'border-box';
    const note = document.createElement('p');
    note.style.margin = '0';
    note.style.color = 'var(--jp-ui-font-color2)';
    note.textContent =
      'The files you can read are copied into a new project of which you are the ' +
      'project admin. Collaborators, integration connections, hidden files, ' +
      'checkpoints, links and environment files (environment.yml, ' +
      'requirements.txt, binder/, …) are not carried.';
    this.node.append(
      labelled('Workspace', this._select),
      labelled('Name', this._name),
      note
    );
  }

  getValue(): IDuplicateRequest {
    const name = this._name.value.trim();
    return name
      ? { to_workspace: this._select.value, name }
      : { to_workspace: this._select.value };
  }

  private _select: HTMLSelectElement;
  private _name: HTMLInputElement;
}

/** "symlinks: a, b" — one line per kind of thing left behind. */
export function leftBehindLine(entry: ILeftBehind): string {
  if (entry.note) {
    return `${entry.what}: ${entry.note}`;
  }
  const paths = entry.paths ?? [];
  if (paths.length > 0) {
    const more = (entry.count ?? paths.length) - paths.length;
    const rest = more > 0 ? ` and ${more} more` : '';
    return `${entry.what}: ${paths.join(', ')}${rest}`;
  }
  return `${entry.what}: ${entry.count ?? 0}`;
}

function resultNode(answer: IDuplicated): HTMLElement {
  const node = document.createElement('div');
  node.className = 'jp-WorkspacePerms-duplicated';
  const copied = document.createElement('p');
  const { files, folders } = answer.copied;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const inFolders = folders > 0 ? ` in ${plural(folders, 'folder')}` : '';
  copied.textContent =
    `Copied ${plural(files, 'file')}${inFolders} into ` +
    `${answer.project.workspace}/${answer.project.name}; ` +
    'you are its project admin.';
  const heading = document.createElement('p');
  heading.textContent = 'Left behind:';
  const list = document.createElement('ul');
  list.setAttribute('aria-label', 'Left behind');
  for (const entry of answer.left_behind) {
    const item = document.createElement('li');
    item.textContent = leftBehindLine(entry);
    list.appendChild(item);
  }
  node.append(copied, heading, list);
  return node;
}

async function duplicate(me: MeModel, selection: ISelection): Promise<void> {
  await me.refresh(); // offer what the server allows now
  const choices = targets(me);
  if (choices.length === 0) {
    await showDialog({
      title: 'Duplicate to workspace',
      body:
        'You may create projects in no workspace, so there is nowhere to ' +
        'duplicate to.',
      buttons: [Dialog.okButton({ label: 'Close' })]
    });
    return;
  }
  const form = new DuplicateForm(selection, choices);
  const answer = await showDialog({
    title: `Duplicate ${selection.workspace}/${selection.project}`,
    body: form,
    focusNodeSelector: 'select',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Duplicate' })]
  });
  if (!answer.button.accept || answer.value === null) {
    return;
  }
  const path =
    `workspaces/${encodeURIComponent(selection.workspace)}/projects/` +
    `${encodeURIComponent(selection.project)}/duplicate`;
  let done: IDuplicated;
  try {
    done = await requestAPI<IDuplicated>('POST', path, answer.value);
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    await showDialog({
      title: 'Duplicate refused',
      body: message,
      buttons: [Dialog.okButton({ label: 'Close' })]
    });
    return;
  }
  await requestRefresh();
  const folder = `/${done.project.workspace}/${done.project.name}`;
  try {
    await selection.browser.model.cd(folder);
  } catch (error) {
    console.warn('jupyter-workspace-perms: could not open', folder, error);
  }
  await showDialog({
    title: 'Project duplicated',
    body: new Widget({ node: resultNode(done) }),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}

const duplicatePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:duplicate',
  description:
    'Duplicate a project to another workspace (file browser context menu).',
  autoStart: true,
  requires: [IWorkspaceSession],
  optional: [IFileBrowserFactory],
  activate: (
    app: JupyterFrontEnd,
    me: MeModel,
    factory: IFileBrowserFactory | null
  ) => {
    if (!factory) {
      return;
    }
    app.commands.addCommand(DUPLICATE_PROJECT, {
      label: 'Duplicate to workspace…',
      caption: args => {
        if (!args.fromFileBrowser) {
          return '';
        }
        return targets(me).length === 0
          ? 'You may create projects in no workspace'
          : 'Copy this project into a workspace where you may create projects';
      },
      isVisible: () => readable(me, selectedProject(factory)) !== null,
      isEnabled: () => targets(me).length > 0,
      execute: async () => {
        const selection = selectedProject(factory);
        if (selection !== null) {
          await duplicate(me, selection);
        }
      }
    });
    app.contextMenu.addItem({
      command: DUPLICATE_PROJECT,
      args: { fromFileBrowser: true },
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 61
    });
  }
};

export const duplicatePlugins: JupyterFrontEndPlugin<any>[] = [duplicatePlugin];
