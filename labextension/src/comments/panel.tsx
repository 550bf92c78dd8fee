/**
 * The comments sidebar: follows the current document, shows its threads and polls
 * while it is visible (see ./model.ts).
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon, ReactWidget } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { RenderMimeContext } from './markdown';
import { CommentsModel } from './model';
import { cellsOf, commentTarget, documentPath, textEditor } from './target';
import { CommentsView } from './view';

/** A speech bubble: the sidebar's icon. */
export const commentsIcon = new LabIcon({
  name: 'jupyter-workspace-perms:comments',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 ' +
    '2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 5v2h10V8zm0 4v2h7v-2z"/></svg>'
});

export class CommentsPanel extends ReactWidget {
  constructor(
    readonly model: CommentsModel,
    private readonly _rendermime: IRenderMimeRegistry | null
  ) {
    super();
    this.addClass('jp-WorkspacePerms-comments-panel');
    model.changed.connect(() => this.update(), this);
  }

  /** Fires when the sidebar is shown or hidden. */
  get visibilityChanged(): ISignal<this, boolean> {
    return this._visibilityChanged;
  }

  /** The notebook shown, if the document is one. */
  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** Follow `widget` (the shell's current widget): its file's threads, or none. */
  setDocument(widget: unknown): void {
    const notebook = widget instanceof NotebookPanel ? widget : null;
    if (notebook !== this._notebook) {
      this._notebook?.content.activeCellChanged.disconnect(this._onCells, this);
      this._notebook?.model?.cells.changed.disconnect(this._onCells, this);
      this._notebook = notebook;
      notebook?.content.activeCellChanged.connect(this._onCells, this);
      notebook?.model?.cells.changed.connect(this._onCells, this);
      if (notebook && !notebook.model) {
        void notebook.context.ready.then(() => {
          if (this._notebook === notebook) {
            notebook.model?.cells.changed.connect(this._onCells, this);
            this.update();
          }
        });
      }
    }
    if (widget !== this._document) {
      this._focus = null; // another document: no cell of it asked for yet
    }
    this._document = widget;
    this.model.setPath(documentPath(widget));
    this.update();
  }

  /**
   * Bring the threads of cell `cellId` into view (a cell marker was clicked), and make
   * it the active cell, so that a new comment goes to it.
   */
  focusCell(cellId: string): void {
    const notebook = this._notebook?.content;
    const index = notebook?.widgets.findIndex(c => c.model.id === cellId) ?? -1;
    if (notebook && index >= 0 && notebook.activeCellIndex !== index) {
      notebook.activeCellIndex = index;
    }
    this._focus = { cellId, key: (this._focus?.key ?? 0) + 1 };
    this.update();
  }

  dispose(): void {
    this._notebook?.content.activeCellChanged.disconnect(this._onCells, this);
    this._notebook?.model?.cells.changed.disconnect(this._onCells, this);
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterShow(): void {
    this._visibilityChanged.emit(true);
    this.update();
  }

  protected onAfterHide(): void {
    this._visibilityChanged.emit(false);
  }

  protected render(): JSX.Element {
    const notebook = this._notebook;
    return (
      <RenderMimeContext.Provider value={this._rendermime}>
        <CommentsView
          path={this.model.path}
          list={this.model.list}
          error={this.model.error}
          isNotebook={notebook !== null}
          hasEditor={notebook !== null || textEditor(this._document) !== null}
          cells={cellsOf(notebook)}
          target={() => commentTarget(this._document)}
          focus={this._focus}
          onChanged={() => this.model.refresh()}
          onShowCell={cellId => this._showCell(cellId)}
        />
      </RenderMimeContext.Provider>
    );
  }

  private _showCell(cellId: string): void {
    const notebook = this._notebook?.content;
    const index = notebook?.widgets.findIndex(c => c.model.id === cellId) ?? -1;
    if (notebook && index >= 0) {
      notebook.activeCellIndex = index;
      void notebook.scrollToItem(index);
    }
  }

  private _onCells(): void {
    this.update();
  }

  private _document: unknown = null;
  private _notebook: NotebookPanel | null = null;
  private _focus: { cellId: string; key: number } | null = null;
  private _visibilityChanged = new Signal<this, boolean>(this);
}
