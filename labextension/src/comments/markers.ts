/**
 * A small badge on each cell of the open notebook that has open threads, with their
 * number; clicking it opens the comments sidebar at that cell's threads.
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { CommentsModel, serverPath } from './model';

/** The CSS class of a cell's comment marker. */
export const MARKER_CLASS = 'jp-wsp-comment-marker';

/** The number of open threads of each cell. */
export function openThreadsByCell(model: CommentsModel): Map<string, number> {
  const counts = new Map<string, number>();
  for (const thread of model.list?.threads ?? []) {
    if (!thread.resolved && thread.cell_id !== null) {
      counts.set(thread.cell_id, (counts.get(thread.cell_id) ?? 0) + 1);
    }
  }
  return counts;
}

export class CommentMarkers implements IDisposable {
  constructor(
    private readonly _model: CommentsModel,
    private readonly _onOpen: (cellId: string) => void
  ) {
    _model.changed.connect(this.update, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Mark the cells of `notebook` (null: none); the previous one's markers go. */
  setNotebook(notebook: NotebookPanel | null): void {
    if (notebook === this._notebook) {
      return;
    }
    this._clear();
    this._notebook?.content.modelContentChanged.disconnect(this.update, this);
    this._notebook = notebook;
    notebook?.content.modelContentChanged.connect(this.update, this);
    this.update();
  }

  /** Draw the markers again from the model's threads. */
  update(): void {
    const notebook = this._notebook;
    if (notebook === null || this._isDisposed) {
      return;
    }
    const path = this._model.path;
    if (path === null || path !== serverPath(notebook.context.path)) {
      this._clear();
      return;
    }
    const counts = openThreadsByCell(this._model);
    for (const cell of notebook.content.widgets) {
      const count = counts.get(cell.model.id) ?? 0;
      if (count > 0) {
        this._mark(cell, count);
      } else {
        this._unmark(cell);
      }
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clear();
    this._notebook?.content.modelContentChanged.disconnect(this.update, this);
    this._model.changed.disconnect(this.update, this);
  }

  private _mark(cell: Cell, count: number): void {
    let marker = this._markers.get(cell);
    if (!marker) {
      // on the cell's own node: its input area is made only when the cell is first
      // shown (notebooks render cells lazily), the cell's node is there from the start
      marker = document.createElement('button');
      marker.type = 'button';
      marker.className = MARKER_CLASS;
      const cellId = cell.model.id;
      marker.addEventListener('click', event => {
        event.stopPropagation();
        this._onOpen(cellId);
      });
      cell.node.appendChild(marker);
      this._markers.set(cell, marker);
    }
    const label = `${count} open comment thread${count === 1 ? '' : 's'} on this cell`;
    marker.textContent = String(count);
    marker.title = `${label}: show them`;
    marker.setAttribute('aria-label', label);
    marker.dataset.count = String(count);
  }

  private _unmark(cell: Cell): void {
    this._markers.get(cell)?.remove();
    this._markers.delete(cell);
  }

  private _clear(): void {
    for (const cell of this._notebook?.content.widgets ?? []) {
      this._unmark(cell);
    }
  }

  private _notebook: NotebookPanel | null = null;
  private _markers = new WeakMap<Cell, HTMLButtonElement>();
  private _isDisposed = false;
}
