/**
 * The ipywidgets panel (`jupyter_workspace_perms.panel.WorkspacePanel`): the settings page
 * as a DOMWidget view that ships in this prebuilt extension; the kernel sends no code.
 *
 * The view acts as the person looking at it, through the REST API, and never because
 * of the kernel: from the kernel it reads only which workspace to show (`workspace`)
 * and a request to refresh (custom message `{"kind": "refresh"}`); every change runs
 * from the person's own click (see `useActionState`). What it sends back (`members`,
 * `error`) goes to a kernel that others may be able to run code in, so it is sent only
 * while the person looking ticks "share … with the kernel", and only for the workspace
 * they ticked it for: showing another one (a cell setting `panel.workspace`, or the
 * panel's own workspace picker) ends the consent and clears what was shared.
 */
import { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import * as React from 'react';
import { Root, createRoot } from 'react-dom/client';

import { ISettingsData } from './data';
import { MODULE_NAME, MODULE_VERSION } from './version';
import { SettingsView } from './view';


export class WorkspacePanelModel extends DOMWidgetModel {
  defaults(): any {
    return {
      ...super.defaults(),
      _model_name: 'WorkspacePanelModel',
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: 'WorkspacePanelView',
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      workspace: '',
      members: [],
      error: ''
    };
  }
}

/** What the view sends back: never credentials, only what the person chose to share. */
function membersOf(data: ISettingsData | null): unknown[] {
  if (!data || !data.members || !data.members.ok) {
    return [];
  }
  return data.members.value.map(m => ({ ...m }));
}

export class WorkspacePanelView extends DOMWidgetView {
  render(): void {
    this.el.classList.add('jp-WorkspacePermsSettings-widget');
    this._root = createRoot(this.el);
    // reading another workspace is a read: allowed from the kernel; the consent to share
    // was for the workspace shown until now, so it ends here (before anything is read)
    this.listenTo(this.model, 'change:workspace', () => {
      this._withdraw();
      this._render();
    });
    this.listenTo(this.model, 'msg:custom', (content: any) => {
      if (content && content.kind === 'refresh') {
        this._refreshKey += 1;
        this._render();
      }
    });
    this._render();
  }

  remove(): any {
    this._root?.unmount();
    this._root = null;
    return super.remove();
  }

  private _render(): void {
    const shown = this._shown();
    this._root?.render(
      <SettingsView
        workspace={this.model.get('workspace') || null}
        refreshKey={this._refreshKey}
        onLoaded={(data, error, asked) => {
          this._last = { data, error, asked };
          if (this._consent !== null && this._consent !== this._shown()) {
            this._withdraw(); // another workspace is shown (e.g. picked in the panel)
          }
          this._sync();
          this._render(); // the consent names the workspace shown
        }}
        extra={
          <label className="jp-WorkspacePermsSettings-check jp-WorkspacePermsSettings-share">
            <input
              type="checkbox"
              checked={this._consent !== null && this._consent === shown}
              disabled={shown === null}
              onChange={e => {
                if (e.nativeEvent.isTrusted) {
                  this._consent = e.target.checked ? this._shown() : null;
                  this._sync();
                  this._render();
                }
              }}
            />{' '}
            Share the member list{shown !== null && <> of {shown}</>} with this notebook’s
            kernel (<code>panel.members</code>): anyone who can run code in it can read it
          </label>
        }
      />
    );
  }

  /**
   * The workspace the last load showed: the one `me` answered with, or the one asked
   * for when the load failed (its error is what would be shared); null before a load.
   */
  private _shown(): string | null {
    const { data, error, asked } = this._last;
    if (data) {
      return data.current?.slug ?? null;
    }
    return error ? asked : null;
  }

  /** End the consent (another workspace is shown) and take back what was shared. */
  private _withdraw(): void {
    this._consent = null;
    this._sync();
  }

  /** Send the last load to the kernel while the person shares it; else clear it. */
  private _sync(): void {
    const share = this._consent !== null && this._consent === this._shown();
    if (!share && !this._shared) {
      return; // nothing was shared: send nothing at all
    }
    const members = share ? membersOf(this._last.data) : [];
    const error = share ? this._last.error : '';
    this.model.set({ members, error });
    this.touch();
    this._shared = share;
  }

  private _root: Root | null = null;
  private _refreshKey = 0;
  /** The workspace whose member list the person agreed to share (null: none). */
  private _consent: string | null = null;
  private _shared = false;
  private _last: { data: ISettingsData | null; error: string; asked: string | null } = {
    data: null,
    error: '',
    asked: null
  };
}
