/**
 * Comments: a right-sidebar panel with the threads of the current document (grouped by
 * cell in notebooks) and a marker on each commented cell of the open notebook.
 *
 * Everything goes through the comments REST API as the person looking; the server
 * decides who may post, reply, edit, resolve and delete, and the panel offers only
 * that. In Notebook 7 the panel goes to the notebook page's right side panel.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { CommentMarkers } from './comments/markers';
import { CommentsModel } from './comments/model';
import { CommentsPanel, commentsIcon } from './comments/panel';
import { documentPath } from './comments/target';
import { locate } from './session';

/** The command that opens the sidebar (at a cell's threads with `cellId`). */
export const OPEN_COMMENTS = 'workspace-perms:open-comments';

const PANEL_ID = 'jupyter-workspace-perms-comments';

/** Whether `widget` is a document inside a project (the only files with comments). */
function inProject(widget: unknown): boolean {
  const path = documentPath(widget);
  return path !== null && locate(path).project !== null;
}

const comments: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workspace-perms:comments',
  description: 'Comment threads on files and notebook cells, in the right sidebar.',
  autoStart: true,
  optional: [IRenderMimeRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry | null,
    palette: ICommandPalette | null
  ) => {
    const model = new CommentsModel();
    const panel = new CommentsPanel(model, rendermime);
    panel.id = PANEL_ID;
    panel.title.icon = commentsIcon;
    panel.title.caption = 'Comments';
    const markers = new CommentMarkers(model, cellId => {
      app.shell.activateById(PANEL_ID);
      panel.focusCell(cellId);
    });

    const follow = () => {
      const current = app.shell.currentWidget;
      const doc = inProject(current) ? current : null;
      panel.setDocument(doc);
      markers.setNotebook(doc instanceof NotebookPanel ? doc : null);
      // someone is looking: the sidebar is open, or a file with comments is current
      model.active = panel.isVisible || doc !== null;
    };
    app.shell.currentChanged?.connect(follow);
    panel.visibilityChanged.connect(follow);

    app.commands.addCommand(OPEN_COMMENTS, {
      label: args => (args.fromCell ? 'Comments on This Cell' : 'Show Comments'),
      caption: 'The comment threads of the current file, and a form for a new one',
      icon: commentsIcon,
      execute: args => {
        app.shell.activateById(PANEL_ID);
        const cellId =
          typeof args.cellId === 'string'
            ? args.cellId
            : args.fromCell
              ? panel.notebook?.content.activeCell?.model.id
              : undefined;
        if (cellId) {
          panel.focusCell(cellId);
        }
      }
    });
    palette?.addItem({ command: OPEN_COMMENTS, category: 'Workspace' });
    app.contextMenu.addItem({
      command: OPEN_COMMENTS,
      args: { fromCell: true },
      selector: '.jp-Notebook .jp-Cell',
      rank: 100
    });

    app.shell.add(panel, 'right', { rank: 600 });
    void app.restored.then(follow);
  }
};

export const commentsPlugins: JupyterFrontEndPlugin<any>[] = [comments];
