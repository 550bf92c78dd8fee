/**
 * What the person is commenting on: the current document, its notebook cells, the
 * active cell and the part of it (or of a text file) selected in the editor.
 */
import { Cell } from '@jupyterlab/cells';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { IDocumentWidget } from '@jupyterlab/docregistry';
import { NotebookPanel } from '@jupyterlab/notebook';

import { IAnchor } from './api';

/** A notebook cell as the sidebar names it. */
export interface ICellInfo {
  id: string;
  /** Its position among all cells, from 1. */
  number: number;
  /** "Cell 3 · forecast = [round(…" */
  label: string;
}

/** Where a new comment goes: the active cell (and its selection), or the file. */
export interface ICommentTarget {
  cell: ICellInfo | null;
  anchor: IAnchor | null;
}

/** The path of a document widget, or null. */
export function documentPath(widget: unknown): string | null {
  const context = (widget as Partial<IDocumentWidget> | null)?.context;
  return context && typeof context.path === 'string' ? context.path : null;
}

/** The first line of a text, cut to `max` characters. */
export function firstLine(text: string, max = 40): string {
  const line = text.split('\n').find(l => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}

function cellInfo(cell: Cell, index: number): ICellInfo {
  const first = firstLine(cell.model.sharedModel.getSource());
  const number = index + 1;
  return {
    id: cell.model.id,
    number,
    label: first ? `Cell ${number} · ${first}` : `Cell ${number} (empty)`
  };
}

/** The cells of a notebook, in order. */
export function cellsOf(panel: NotebookPanel | null): ICellInfo[] {
  return panel ? panel.content.widgets.map(cellInfo) : [];
}

/**
 * The part of the source selected in an editor (a cell's, a text file's), as character
 * offsets; null when nothing is selected.
 */
export function selectionAnchor(editor: CodeEditor.IEditor | null): IAnchor | null {
  if (!editor) {
    return null;
  }
  const range = editor.getSelection();
  const a = editor.getOffsetAt(range.start);
  const b = editor.getOffsetAt(range.end);
  if (a === b) {
    return null;
  }
  return { start: Math.min(a, b), end: Math.max(a, b) };
}

/** The editor of a document that is one text editor (a file editor), or null. */
export function textEditor(widget: unknown): CodeEditor.IEditor | null {
  const content = (widget as Partial<IDocumentWidget> | null)?.content as
    | { editor?: CodeEditor.IEditor }
    | undefined;
  const editor = content?.editor;
  return editor && typeof editor.getSelection === 'function' ? editor : null;
}

/**
 * Where a comment posted now on `widget` would go: a notebook's active cell and its
 * selection, a text file's selection, or the file as a whole.
 */
export function commentTarget(widget: unknown): ICommentTarget {
  if (!(widget instanceof NotebookPanel)) {
    return { cell: null, anchor: selectionAnchor(textEditor(widget)) };
  }
  const notebook = widget.content;
  const cell = notebook.activeCell;
  if (!cell) {
    return { cell: null, anchor: null };
  }
  return {
    cell: cellInfo(cell, notebook.activeCellIndex),
    anchor: selectionAnchor(cell.editor)
  };
}
