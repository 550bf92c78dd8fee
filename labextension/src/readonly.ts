/**
 * Notebooks read-only where the server would refuse edits, and no kernel for those who
 * may not run one.
 *
 * - Without `project:write` (or when the contents model says `writable: false`), code,
 *   markdown and raw cells are read-only through `cell.syncEditable = false;
 *   cell.readOnly = true`, so nothing is written into the notebook's metadata; the cell
 *   tagged `parameters` stays editable for people with `project:execute`.
 * - Commands that add, delete, move, cut, paste, merge, split or retype cells are
 *   disabled there (./commands.ts), their tooltip saying why; a keyboard shortcut
 *   explains instead. The toolbar's cell type dropdown (which retypes cells without a
 *   command) is disabled too; find and replace skips those cells (./search.ts); a save
 *   the server refuses anyway says how to get back (./saves.ts).
 * - Without `project:execute`, the notebook never starts nor joins a kernel (its session
 *   context is told so before it initializes), run commands explain instead of hanging,
 *   and a banner says "View only — you can read this notebook", with a "Request
 *   access" button (./requests/ask.ts) where the server would take a request.
 *
 * All of it is a convenience: the server refuses every edit, run and save anyway.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ISessionContext } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import {
  IRefusal,
  RUN_COMMANDS,
  SEMANTIC_RUN_COMMANDS,
  STRUCTURE_COMMANDS,
  guardCommands
} from './commands';
import { permissionDef } from './generated';
import { requestAccessNode, requestPlace } from './requests/ask';
import { RELOAD_COMMAND, RefusedSaves, isReported } from './saves';
import { IStanding, MeModel, roleLabel, withArticle } from './session';

/** The name of JupyterLab's (and Notebook 7's) notebook widget factory. */
const NOTEBOOK_FACTORY = 'Notebook';

/** The CSS class of a notebook panel opened view-only (no `project:execute`). */
export const VIEW_ONLY_CLASS = 'jp-WorkspacePerms-viewOnly';
/** The CSS class of a notebook panel whose cells are locked (no `project:write`). */
export const LOCKED_CLASS = 'jp-WorkspacePerms-cellsLocked';
/** The CSS class of the `parameters` cell left editable in a locked notebook. */
export const PARAMETERS_CLASS = 'jp-WorkspacePerms-parameters';
/**
 * The notebook toolbar's cell type dropdown (JupyterLab's `cellType` item): it calls
 * `NotebookActions.changeCellType` directly, so no command guard reaches it.
 */
export const CELL_TYPE_DROPDOWN = '.jp-Notebook-toolbarCellTypeDropdown';

export const VIEW_ONLY_TEXT = 'View only — you can read this notebook';
/** The CSS class of the banner's sentence (a "Request access" button may follow it). */
export const BANNER_TEXT_CLASS = 'jp-WorkspacePerms-banner-text';

/** The role the permission table first gives `permission` to, as people read it. */
function neededRole(permission: string): string {
  return roleLabel(permissionDef(permission)?.minRole ?? 'admin');
}

/** Why cells cannot be changed here, in one sentence. */
export function structureReason(standing: IStanding): string {
  const editor = withArticle(neededRole('project:write'));
  if (standing.canExecute) {
    const role = standing.project?.role;
    const who = role ? `${roleLabel(role)}s` : 'You';
    return `${who} can run cells and change parameters; ask ${editor} to change cells`;
  }
  return `View only: you can read this notebook; ask ${editor} to change cells`;
}

/** Why nothing can be run here, in one sentence. */
export function runReason(): string {
  const contributor = neededRole('project:execute');
  return (
    `View only: running cells needs the ${contributor} role or above on this ` +
    'project; ask a project admin for it'
  );
}

/** Whether a cell is the papermill `parameters` cell. */
function isParameters(cell: Cell): boolean {
  if (cell.model.type !== 'code') {
    return false;
  }
  const tags = cell.model.getMetadata('tags');
  return Array.isArray(tags) && tags.includes('parameters');
}

/** The kernel preference of someone who may not run code: never start nor join one. */
const NO_KERNEL: Partial<ISessionContext.IKernelPreference> = {
  canStart: false,
  shouldStart: false,
  shouldReuse: false,
  autoStartDefault: false
};

/**
 * One open notebook and what the person may do on it; keeps its cells, banner and
 * kernel preference in step with `me` and the contents model.
 */
class NotebookGuard implements IDisposable {
  constructor(
    readonly panel: NotebookPanel,
    private readonly _me: MeModel,
    private readonly _onChange: () => void,
    reload: () => Promise<void>
  ) {
    const context = panel.context;
    this._originalPreference = { ...context.sessionContext.kernelPreference };
    this._banner = new Widget();
    this._banner.addClass('jp-WorkspacePerms-banner');
    this._banner.node.setAttribute('role', 'status');
    this._banner.hide();
    panel.contentHeader.insertWidget(0, this._banner);
    // Cells created later (added, pasted, undone) are locked too.
    panel.content.modelChanged.connect(this._watchModel, this);
    this._watchModel();
    context.fileChanged.connect(this.update, this);
    // Locked notebooks take no drops (moving or copying cells in).
    panel.node.addEventListener('lm-dragover', this._onDrag, true);
    panel.node.addEventListener('lm-drop', this._onDrag, true);
    // The toolbar's items render (and may be replaced) after the panel is created.
    this._toolbarObserver = new MutationObserver(() => this._applyToolbar());
    this._toolbarObserver.observe(panel.toolbar.node, {
      childList: true,
      subtree: true
    });
    this._saves = new RefusedSaves(
      panel,
      () => this.cellsLocked && !this.viewOnly,
      reload
    );
    this.update();
    void context.ready.then(() => this.update());
  }

  /** What the person may do on this notebook; null when `me` is unknown. */
  get standing(): IStanding | null {
    return this._standing;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Settles once a kernel started after running became allowed is connected. */
  get starting(): Promise<void> {
    return this._starting;
  }

  /** Whether cells are locked here (no `project:write`). */
  get cellsLocked(): boolean {
    return this._standing !== null && !this._standing.canWrite;
  }

  /** Whether nothing may run here (no `project:execute`). */
  get viewOnly(): boolean {
    return this._standing !== null && !this._standing.canExecute;
  }

  /** Re-read `me` and the contents model, and apply what they say. */
  update(): void {
    if (this._isDisposed) {
      return;
    }
    const context = this.panel.context;
    const standing = this._me.standing(context.path);
    if (standing !== null && context.contentsModel?.writable === false) {
      standing.canWrite = false;
    }
    const before = JSON.stringify(this._key(this._standing));
    this._standing = standing;
    this._applyKernelPreference();
    this._applyCells();
    this._applyToolbar();
    this._applyBanner();
    if (JSON.stringify(this._key(standing)) !== before) {
      this._onChange();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.panel.node.removeEventListener('lm-dragover', this._onDrag, true);
    this.panel.node.removeEventListener('lm-drop', this._onDrag, true);
    this._toolbarObserver.disconnect();
    this._saves.dispose();
    this._model?.cells.changed.disconnect(this._applyCells, this);
    this._banner.dispose();
  }

  private _key(s: IStanding | null): unknown {
    return s === null ? null : [s.canWrite, s.canExecute, s.project?.role];
  }

  private _watchModel(): void {
    this._model?.cells.changed.disconnect(this._applyCells, this);
    this._model = this.panel.content.model;
    // Connected after the notebook's own handler, which creates the cell widgets.
    this._model?.cells.changed.connect(this._applyCells, this);
    this._applyCells();
  }

  private _applyCells(): void {
    const locked = this.cellsLocked;
    const parametersEditable = locked && !this.viewOnly;
    this.panel.toggleClass(LOCKED_CLASS, locked);
    for (const cell of this.panel.content.widgets) {
      if (locked) {
        Private.neverTrust(cell);
      }
      const parameters = parametersEditable && isParameters(cell);
      cell.toggleClass(PARAMETERS_CLASS, parameters);
      if (locked && !parameters) {
        if (!Private.lockedCells.has(cell)) {
          Private.lockedCells.add(cell);
          // Never `editable: false` in the file: the lock is this person's only.
          cell.syncEditable = false;
          cell.readOnly = true;
        }
      } else if (Private.lockedCells.has(cell)) {
        Private.lockedCells.delete(cell);
        cell.readOnly = false;
        cell.syncEditable = true; // back to what the notebook's metadata says
      }
    }
  }

  /**
   * Disable the cell type dropdown where cells are locked, its tooltip saying why
   * (also on its wrapper: a disabled control gets no pointer events). React leaves
   * `disabled` alone on re-render: JupyterLab never sets it on this select.
   */
  private _applyToolbar(): void {
    const standing = this._standing;
    const reason =
      this.cellsLocked && standing !== null ? structureReason(standing) : null;
    const wrappers = this.panel.toolbar.node.querySelectorAll<HTMLElement>(
      CELL_TYPE_DROPDOWN
    );
    wrappers.forEach(wrapper => {
      const select = wrapper.querySelector('select');
      if (select === null) {
        return;
      }
      if (reason !== null) {
        if (!Private.lockedSelects.has(select)) {
          Private.lockedSelects.set(select, select.title);
        }
        select.disabled = true;
        select.title = reason;
        wrapper.title = reason;
      } else {
        const title = Private.lockedSelects.get(select);
        if (title !== undefined) {
          Private.lockedSelects.delete(select);
          select.disabled = false;
          select.title = title;
          wrapper.removeAttribute('title');
        }
      }
    });
  }

  private _applyBanner(): void {
    const viewOnly = this.viewOnly;
    const locked = this.cellsLocked;
    this.panel.toggleClass(VIEW_ONLY_CLASS, viewOnly);
    this._banner.toggleClass('jp-mod-info', locked && !viewOnly);
    let text = '';
    if (viewOnly) {
      text = VIEW_ONLY_TEXT;
    } else if (locked && this._standing !== null) {
      text = structureReason(this._standing);
    }
    if (!text) {
      this._banner.hide();
      this._bannerKey = '';
      return;
    }
    // "Request access" where the server would take a request (built once per change:
    // it reads the person's latest request)
    const place = requestPlace(this._standing);
    const identity = this._me.me?.identity ?? null;
    const key = JSON.stringify([text, place, identity?.username]);
    if (key !== this._bannerKey) {
      this._bannerKey = key;
      const node = this._banner.node;
      const span = document.createElement('span');
      span.className = BANNER_TEXT_CLASS;
      span.textContent = text;
      span.title = viewOnly ? runReason() : text;
      node.replaceChildren(span);
      if (place !== null && identity !== null) {
        node.appendChild(
          requestAccessNode(identity, place, true, () => this._standing)
        );
      }
    }
    this._banner.show();
  }

  private _applyKernelPreference(): void {
    const sessionContext = this.panel.context.sessionContext;
    if (this.viewOnly) {
      if (!this._noKernel) {
        this._noKernel = true;
        sessionContext.kernelPreference = {
          ...sessionContext.kernelPreference,
          ...NO_KERNEL
        };
        // Lost the right to run while connected: leave the kernel to its owners.
        sessionContext.session?.dispose();
      }
      return;
    }
    if (this._noKernel) {
      // May run now (e.g. promoted to Contributor): start or join the kernel as usual.
      this._noKernel = false;
      const original = this._originalPreference;
      sessionContext.kernelPreference = {
        ...sessionContext.kernelPreference,
        canStart: original.canStart,
        shouldStart: original.shouldStart,
        shouldReuse: original.shouldReuse,
        autoStartDefault: original.autoStartDefault
      };
      if (!sessionContext.session && sessionContext.isReady) {
        this._starting = sessionContext
          .startKernel()
          .then(() => undefined)
          .catch(error => {
            console.warn('jupyter-workspace-perms: could not start the kernel', error);
          });
      }
    }
  }

  private _onDrag = (event: Event): void => {
    if (!this.cellsLocked) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    (event as Event & { dropAction?: string }).dropAction = 'none';
  };

  private _standing: IStanding | null = null;
  private _originalPreference: ISessionContext.IKernelPreference;
  private _noKernel = false;
  private _starting: Promise<void> = Promise.resolve();
  private _banner: Widget;
  private _bannerKey = '';
  private _toolbarObserver: MutationObserver;
  private _saves: RefusedSaves;
  private _model: INotebookModel | null = null;
  private _isDisposed = false;
}

/**
 * Guards every notebook the document manager opens, and the notebook commands.
 */
export class ReadOnlyNotebooks implements IDisposable {
  constructor(
    private readonly _app: JupyterFrontEnd,
    private readonly _me: MeModel,
    private readonly _currentNotebook: () => NotebookPanel | null
  ) {
    // The notebook factory's `widgetCreated` fires as each notebook widget is created,
    // before its session context initializes: the kernel preference is set in time.
    // (A widget extension would do too, but adding one changes the document registry
    // while the page starts, which Notebook 7's document manager settings trip over.)
    const registry = _app.docRegistry;
    const connect = () => {
      const factory = registry.getWidgetFactory(NOTEBOOK_FACTORY);
      if (factory && factory !== this._factory) {
        this._factory?.widgetCreated.disconnect(this._onCreated, this);
        this._factory = factory;
        factory.widgetCreated.connect(this._onCreated, this);
      }
    };
    const onRegistryChanged = (
      _: DocumentRegistry,
      change: DocumentRegistry.IChangedArgs
    ) => {
      if (change.type === 'widgetFactory' && change.name === NOTEBOOK_FACTORY) {
        connect();
      }
    };
    registry.changed.connect(onRegistryChanged);
    connect();
    this._disposables.push(
      new DisposableDelegate(() => {
        registry.changed.disconnect(onRegistryChanged);
        this._factory?.widgetCreated.disconnect(this._onCreated, this);
      })
    );
    this._disposables.push(
      guardCommands(_app.commands, (id, args) => this._refusal(id, args))
    );
    _me.changed.connect(this._updateAll, this);
    window.addEventListener('unhandledrejection', this._onRejection);
  }

  /**
   * The guard of the notebook command `id` acts on, found as JupyterLab finds it: the
   * cell toolbar's `widgetId`, a menu's `semanticWidget`, else the current notebook
   * (the shell's current widget for the menu-level commands).
   */
  guardFor(id: string, args: ReadonlyPartialJSONObject): NotebookGuard | null {
    const widgetId = args['widgetId'] ?? args['semanticWidget'];
    let target: unknown;
    if (typeof widgetId === 'string') {
      target = [...this._guards].find(g => g.panel.id === widgetId)?.panel;
    } else if (SEMANTIC_RUN_COMMANDS.includes(id)) {
      target = this._app.shell.currentWidget;
    } else {
      target = this._currentNotebook();
    }
    return [...this._guards].find(g => g.panel === target) ?? null;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._me.changed.disconnect(this._updateAll, this);
    window.removeEventListener('unhandledrejection', this._onRejection);
    this._disposables.forEach(d => d.dispose());
    this._guards.forEach(g => g.dispose());
    this._guards.clear();
  }

  private _onCreated(_: unknown, widget: Widget): void {
    if (!(widget instanceof NotebookPanel)) {
      return;
    }
    const guard = new NotebookGuard(
      widget,
      this._me,
      () => this._app.commands.notifyCommandChanged(),
      () => this._reload(widget)
    );
    this._guards.add(guard);
    widget.disposed.connect(() => {
      guard.dispose();
      this._guards.delete(guard);
    });
  }

  /**
   * Why the cells of `panel` may not change (the notebook search provider's notice),
   * or null where this extension does not lock them.
   */
  lockReason(panel: NotebookPanel): string | null {
    const guard = [...this._guards].find(g => g.panel === panel);
    const standing = guard?.standing;
    return guard?.cellsLocked && standing ? structureReason(standing) : null;
  }

  /** File → Reload Notebook from Disk on `panel` (JupyterLab asks to confirm). */
  private async _reload(panel: NotebookPanel): Promise<void> {
    this._app.shell.activateById(panel.id);
    await this._app.commands.execute(RELOAD_COMMAND);
  }

  private _updateAll(): void {
    this._guards.forEach(g => g.update());
    this._app.commands.notifyCommandChanged();
  }

  /** Why `id` may not act on its notebook now (null: let it). */
  private _refusal(
    id: string,
    args: ReadonlyPartialJSONObject
  ): IRefusal | null {
    const guard = this.guardFor(id, args);
    const standing = guard?.standing;
    if (!guard || !standing) {
      return null;
    }
    const runs = RUN_COMMANDS.includes(id) || SEMANTIC_RUN_COMMANDS.includes(id);
    if (runs && guard.viewOnly) {
      return { message: runReason(), refresh: () => this._refresh(guard) };
    }
    if (STRUCTURE_COMMANDS.includes(id) && guard.cellsLocked) {
      return {
        message: structureReason(standing),
        refresh: () => this._refresh(guard)
      };
    }
    return null;
  }

  private async _refresh(guard: NotebookGuard): Promise<void> {
    await this._me.refresh();
    guard.update();
    await guard.starting; // promoted just now: run once the kernel is there
  }

  /**
   * The ipywidgets manager (`@jupyter-widgets/jupyterlab-manager` 5.0) awaits every
   * notebook's `sessionContext.ready` and then reads `session.kernel.id`, which throws
   * for a notebook without a kernel (jupyter-widgets/ipywidgets#3970). Notebooks opened
   * view-only have none on purpose, so that known rejection is expected there and
   * not reported; any other error still is.
   */
  private _onRejection = (event: PromiseRejectionEvent): void => {
    const reason: unknown = event.reason;
    if (isReported(reason)) {
      // A refused save, already shown with what to do next (./saves.ts): JupyterLab's
      // save command rethrows it to a keyboard shortcut or toolbar button nobody awaits.
      event.preventDefault();
      return;
    }
    if (
      reason instanceof TypeError &&
      reason.message.includes("reading 'kernel'") &&
      (reason.stack ?? '').includes('jupyterlab-manager') &&
      [...this._guards].some(g => g.viewOnly)
    ) {
      event.preventDefault();
    }
  };

  private _factory: DocumentRegistry.IWidgetFactory<
    IDocumentWidget,
    DocumentRegistry.IModel
  > | null = null;
  private _guards = new Set<NotebookGuard>();
  private _disposables: IDisposable[] = [];
  private _isDisposed = false;
}

namespace Private {
  /** Cells this extension made read-only (and only those it unlocks again). */
  export const lockedCells = new WeakSet<Cell>();
  /** Cell type dropdowns this extension disabled, and their own tooltip. */
  export const lockedSelects = new WeakMap<HTMLSelectElement, string>();
  /** Shared cell models whose metadata writes leave `trusted` out. */
  const untrusting = new WeakSet<object>();

  /**
   * JupyterLab marks a cell `trusted` in its shared metadata when it runs it, and every
   * client in a collaboration room then renders its outputs as trusted (HTML with
   * scripts, JavaScript). Outputs from someone without write are never trusted, so
   * their client never writes the mark (the server refuses it from them anyway: it
   * would let them run script in an Editor's browser); their own view of their
   * outputs stays as JupyterLab shows untrusted ones.
   */
  export function neverTrust(cell: Cell): void {
    const shared = cell.model.sharedModel as unknown as {
      setMetadata(
        first: string | Record<string, unknown>,
        value?: unknown
      ): void;
    };
    if (untrusting.has(shared)) {
      return;
    }
    untrusting.add(shared);
    const original = shared.setMetadata.bind(shared);
    shared.setMetadata = (first, value?) => {
      if (typeof first === 'string') {
        if (first !== 'trusted') {
          original(first, value);
        }
        return;
      }
      if (first !== null && typeof first === 'object' && 'trusted' in first) {
        const rest = { ...first };
        delete rest.trusted;
        original(rest);
        return;
      }
      original(first, value);
    };
  }
}
