/**
 * The settings page as a Lumino widget, for the main area and the left sidebar.
 */
import { LabIcon, ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { SettingsView } from './view';

/** A group of people with a key: the sidebar's icon. */
export const settingsIcon = new LabIcon({
  name: 'jupyter-workspace-perms:settings',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<circle cx="8" cy="7" r="3.2"/><path d="M2 19c0-3.3 2.7-6 6-6s6 2.7 6 6z"/>' +
    '<circle cx="16.5" cy="8" r="2.6"/><path d="M15 13.3c.5-.1 1-.2 1.5-.2 3 0 5.5 2.5 5.5 ' +
    '5.5v.4h-6.3c-.1-2.2-.4-4-.7-5.7z"/></g></svg>'
});

/**
 * The settings page. It renders nothing until first shown, so a closed sidebar costs no
 * requests when JupyterLab starts.
 */
export class SettingsWidget extends ReactWidget {
  constructor(options: { workspace?: string | null; project?: string | null } = {}) {
    super();
    this.addClass('jp-WorkspacePermsSettings-panel');
    this._workspace = options.workspace ?? null;
    this._project = options.project ?? null;
  }

  /** Show workspace `workspace`, bringing `project` into view; re-reads everything. */
  select(workspace: string | null, project: string | null = null): void {
    this._workspace = workspace ?? this._workspace;
    this._project = project;
    this._refreshKey += 1;
    this.update();
  }

  protected onAfterShow(): void {
    if (this._hidden) {
      this._refreshKey += 1; // shown again (a sidebar reopened, a tab came back): re-read
    }
    this._hidden = false;
    this._shown = true;
    this.update();
  }

  protected onAfterHide(): void {
    this._hidden = this._shown;
  }

  protected onAfterAttach(msg: any): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this._shown = true;
      this.update();
    }
  }

  protected render(): JSX.Element | null {
    if (!this._shown) {
      return null;
    }
    return (
      <SettingsView
        workspace={this._workspace}
        project={this._project}
        refreshKey={this._refreshKey}
      />
    );
  }

  private _workspace: string | null;
  private _project: string | null;
  private _refreshKey = 0;
  private _shown = false;
  private _hidden = false;
}
