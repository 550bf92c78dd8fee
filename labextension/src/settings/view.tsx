/**
 * The workspace settings page: one React view used by the main-area page, the left
 * sidebar and the ipywidgets panel.
 *
 * It reads everything through the REST API as the person looking and enables each
 * control from the `permissions` the server answered; a change runs only from the
 * person's own click or key press, and a refusal shows the server's message beside
 * the control that caused it.
 */
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import {
  ActionsContext,
  Loading,
  messageOf,
  roleLabel,
  useActionState
} from './common';
import { ISettingsData, loadSettings } from './data';
import { KernelSandboxNote } from './sandbox';
import { AccessRequestsSection } from './requests';
import { IntegrationsSection } from './integrations';
import { IMeWorkspace } from './types';
import { MembersSection } from './members';
import { ProjectsSection } from './projects';
import { SettingsSection } from './workspace';
import { TokensSection } from './tokens';
import { requestRefresh } from '../session';

/** Emitted (with the emitting view's id) after any view changed the policy. */
export const policyChanged = new Signal<object, string>({});

export interface ISettingsViewProps {
  /** The workspace to show (null: the first of the person's). */
  workspace: string | null;
  /** A project to bring into view (from the file browser's context menu). */
  project?: string | null;
  /** Bump to re-read everything (e.g. the kernel asked an ipywidget to refresh). */
  refreshKey?: number;
  /**
   * Called after every load with what was read (null and a message on failure) and the
   * workspace asked for (null: the first of the person's).
   */
  onLoaded?: (data: ISettingsData | null, error: string, asked: string | null) => void;
  /** Extra content under the header (the ipywidget's sharing choice). */
  extra?: React.ReactNode;
}

let nextViewId = 0;

export function SettingsView(props: ISettingsViewProps): JSX.Element {
  const [viewId] = React.useState(() => `v${nextViewId++}`);
  const [slug, setSlug] = React.useState<string | null>(props.workspace);
  const [data, setData] = React.useState<ISettingsData | null>(null);
  const [error, setError] = React.useState('');
  const [loading, setLoading] = React.useState(true);
  const latest = React.useRef(0);
  const onLoaded = React.useRef(props.onLoaded);
  onLoaded.current = props.onLoaded;

  React.useEffect(() => setSlug(props.workspace), [props.workspace]);

  const load = React.useCallback(async () => {
    const ticket = ++latest.current;
    setLoading(true);
    try {
      const found = await loadSettings(slug);
      if (ticket === latest.current) {
        setData(found);
        setError('');
        onLoaded.current?.(found, '', slug);
      }
    } catch (e) {
      if (ticket === latest.current) {
        setError(messageOf(e));
        onLoaded.current?.(null, messageOf(e), slug);
      }
    } finally {
      if (ticket === latest.current) {
        setLoading(false);
      }
    }
  }, [slug]);

  React.useEffect(() => {
    void load();
  }, [load, props.refreshKey]);

  React.useEffect(() => {
    const onChanged = (_: object, source: string) => {
      if (source !== viewId) {
        void load();
      }
    };
    policyChanged.connect(onChanged);
    return () => {
      policyChanged.disconnect(onChanged);
    };
  }, [load, viewId]);

  const reloadAfterChange = React.useCallback(async () => {
    policyChanged.emit(viewId);
    // the role item and the read-only cells follow what was just changed
    await Promise.all([load(), requestRefresh()]);
  }, [load, viewId]);
  const actions = useActionState(viewId, reloadAfterChange);
  const { clear } = actions;
  React.useEffect(() => clear(), [clear, slug]);

  return (
    <ActionsContext.Provider value={actions}>
      <div
        className="jp-WorkspacePermsSettings"
        aria-busy={loading}
        data-workspace={data?.current?.slug ?? ''}
      >
        <Header
          data={data}
          loading={loading}
          onPick={setSlug}
          onRefresh={() => void load()}
        />
        {props.extra}
        {error && (
          <p className="jp-WorkspacePermsSettings-loadError" role="alert">
            Could not load the workspace settings: {error}
          </p>
        )}
        {!data && !error && <Loading what="workspace settings" />}
        {data && <Body data={data} project={props.project ?? null} />}
      </div>
    </ActionsContext.Provider>
  );
}

function Header(props: {
  data: ISettingsData | null;
  loading: boolean;
  onPick: (slug: string) => void;
  onRefresh: () => void;
}): JSX.Element {
  const { data } = props;
  const current = data?.current ?? null;
  const workspaces = data?.me.workspaces ?? [];
  return (
    <header className="jp-WorkspacePermsSettings-header">
      <h2>
        {current ? `${current.name || current.slug} settings` : 'Workspace settings'}
      </h2>
      {data && (
        <p className="jp-WorkspacePermsSettings-whoami">
          Signed in as{' '}
          <strong>{data.me.identity.email || data.me.identity.username}</strong>{' '}
          with {data.me.identity.login_provider}
          {current && <> · {standing(current)}</>}
        </p>
      )}
      <div className="jp-WorkspacePermsSettings-toolbar">
        {workspaces.length > 1 && (
          <label>
            Workspace{' '}
            <select
              aria-label="Workspace"
              value={current?.slug ?? ''}
              onChange={e => props.onPick(e.target.value)}
            >
              {!current && <option value="">choose…</option>}
              {workspaces.map(w => (
                <option key={w.slug} value={w.slug}>
                  {w.name ? `${w.name} (${w.slug})` : w.slug}
                </option>
              ))}
            </select>
          </label>
        )}
        <button
          type="button"
          className="jp-WorkspacePermsSettings-button"
          onClick={props.onRefresh}
          disabled={props.loading}
        >
          Refresh
        </button>
        {props.loading && data && (
          <span className="jp-WorkspacePermsSettings-loading" role="status">
            <span className="jp-WorkspacePermsSettings-spinner" aria-hidden="true" />
            Refreshing…
          </span>
        )}
      </div>
    </header>
  );
}

/** How the person stands in the workspace, as the server answered. */
function standing(w: {
  role: string | null;
  owner: boolean;
  guest: boolean;
  sso_blocked: boolean;
  enforced_sso_provider: string | null;
}): string {
  if (w.sso_blocked) {
    return `blocked: this workspace requires signing in with ${w.enforced_sso_provider}`;
  }
  if (w.guest && !w.role) {
    return 'guest (only the projects shared with you)';
  }
  return roleLabel(w.role) + (w.owner ? ' and owner' : '');
}

/** Why a guest or a member blocked by enforced SSO sees no members or settings. */
function outsider(w: IMeWorkspace): string {
  const sso = w.enforced_sso_provider;
  return w.sso_blocked
    ? `${w.slug} requires signing in with ${sso}: sign in with ${sso} to see its ` +
        'members and settings.'
    : `You are a guest of ${w.slug}: you see only the projects shared with you, not ` +
        'its members or settings.';
}

function Body(props: { data: ISettingsData; project: string | null }): JSX.Element {
  const { data } = props;
  return (
    <>
      <KernelSandboxNote status={data.status} />
      {data.current && <AccessRequestsSection data={data} />}
      {data.notFound && (
        <p className="jp-WorkspacePermsSettings-loadError" role="alert">
          You are not a member or guest of a workspace named “{data.notFound}”.
        </p>
      )}
      {!data.current && !data.notFound && (
        <p>You do not belong to any workspace yet.</p>
      )}
      {data.current && (data.workspace || data.members) && (
        <>
          <MembersSection data={data} />
          <SettingsSection data={data} />
        </>
      )}
      {data.current && !data.workspace && !data.members && (
        <p className="jp-WorkspacePermsSettings-readOnly" role="note">
          {outsider(data.current)}
        </p>
      )}
      {data.current && data.integrations && (
        <IntegrationsSection key={data.current.slug} data={data} />
      )}
      {data.current && <ProjectsSection data={data} focus={props.project} />}
      <TokensSection data={data} />
    </>
  );
}
