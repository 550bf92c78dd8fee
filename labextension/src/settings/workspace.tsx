/**
 * Workspace settings: domain invites, enforced SSO and viewers running code.
 * Enabled by `workspace:manage_settings`; what is available, what is offered and who
 * would be blocked are the server's answers, shown as given.
 */
import * as React from 'react';

import {
  LoadError,
  Outcome,
  Section,
  UserEvent,
  describedBy,
  holds,
  seg,
  useActions,
  useIds
} from './common';
import { Permission } from '../generated';
import { ISettingsData } from './data';
import { IWorkspace } from './types';

const MANAGE: Permission = 'workspace:manage_settings';

export function SettingsSection(props: { data: ISettingsData }): JSX.Element {
  const ws = props.data.workspace;
  return (
    <Section name="settings" title="Settings">
      {ws && !ws.ok && <LoadError message={ws.message} />}
      {ws && ws.ok && (
        <>
          {!holds(ws.value.permissions, MANAGE) && (
            <p className="jp-WorkspacePermsSettings-readOnly">
              Read only: changing these settings is for people the server allows to
              manage settings.
            </p>
          )}
          <DomainInvites ws={ws.value} />
          <EnforcedSso ws={ws.value} />
          <ViewersExecute ws={ws.value} />
        </>
      )}
    </Section>
  );
}

/** PATCH the workspace's settings for control `key`. */
function usePatch(ws: IWorkspace, key: string) {
  const actions = useActions();
  return (e: UserEvent, body: Record<string, unknown>, done?: string) =>
    actions.run(
      e,
      key,
      () => actions.request('PATCH', `workspaces/${seg(ws.slug)}`, body),
      done
    );
}

function DomainInvites(props: { ws: IWorkspace }): JSX.Element {
  const ids = useIds();
  const { ws } = props;
  const actions = useActions();
  const key = 'domain-invites';
  const patch = usePatch(ws, key);
  const canManage = holds(ws.permissions, MANAGE);
  // the server says whether invites can be turned on; turning them off always can
  const offerable = ws.domain_invites_available || ws.domain_invites;
  return (
    <div className="jp-WorkspacePermsSettings-setting" data-setting="domain_invites">
      <h4>Domain invites</h4>
      <label className="jp-WorkspacePermsSettings-check">
        <input
          id={ids(key)}
          type="checkbox"
          checked={ws.domain_invites}
          disabled={!canManage || !offerable || actions.busy === key}
          onChange={e =>
            void patch(
              e,
              { domain_invites: e.target.checked },
              e.target.checked ? 'Domain invites are on.' : 'Domain invites are off.'
            )
          }
          {...describedBy(actions, key)}
        />{' '}
        {ws.invite_domain
          ? `People with a verified @${ws.invite_domain} email may join as Viewer`
          : 'People from the owner’s email domain may join as Viewer'}
      </label>
      <p className="jp-WorkspacePermsSettings-muted">
        {ws.domain_invites ? 'On.' : 'Off.'}
      </p>
      {!ws.domain_invites_available && (
        <p
          className="jp-WorkspacePermsSettings-unavailable"
          data-reason={ws.domain_invites_reason ?? ''}
        >
          Not available: {ws.domain_invites_message ?? ws.domain_invites_reason}
        </p>
      )}
      <Outcome actionKey={key} />
    </div>
  );
}

function EnforcedSso(props: { ws: IWorkspace }): JSX.Element {
  const { ws } = props;
  const actions = useActions();
  const key = 'enforced-sso';
  const patch = usePatch(ws, key);
  const canManage = holds(ws.permissions, MANAGE);
  const offer = ws.sso_provider_offer;
  const enforced = ws.enforced_sso_provider;
  const blocked = ws.sso_offer_would_block;
  return (
    <div className="jp-WorkspacePermsSettings-setting" data-setting="enforced_sso_provider">
      <h4>Enforced SSO</h4>
      <p>
        {enforced
          ? `Members must sign in with ${enforced}.`
          : 'Not enforced: members may sign in with any provider.'}
      </p>
      <p>
        You are signed in with <strong>{offer}</strong>
        {enforced === offer ? ', the enforced provider.' : `: you can enforce ${offer}.`}
      </p>
      <p className="jp-WorkspacePermsSettings-wouldBlock">
        {wouldBlock(offer, enforced === offer, blocked)}
      </p>
      <div className="jp-WorkspacePermsSettings-inline">
        {enforced !== offer && (
          <button
            type="button"
            className="jp-WorkspacePermsSettings-button"
            disabled={!canManage || actions.busy === key}
            onClick={e =>
              void patch(e, { enforced_sso_provider: offer }, `${offer} is enforced.`)
            }
            {...describedBy(actions, key)}
          >
            {enforced ? `Enforce ${offer} instead` : `Enforce ${offer}`}
          </button>
        )}
        {enforced && (
          <button
            type="button"
            className="jp-WorkspacePermsSettings-button"
            disabled={!canManage || actions.busy === key}
            onClick={e =>
              void patch(e, { enforced_sso_provider: null }, 'SSO is no longer enforced.')
            }
            {...describedBy(actions, key)}
          >
            Stop enforcing {enforced}
          </button>
        )}
      </div>
      <Outcome actionKey={key} />
    </div>
  );
}

/** Who enforcing `offer` blocks (or blocks now), as the server listed them. */
function wouldBlock(offer: string, enforcedNow: boolean, blocked: string[]): string {
  if (blocked.length === 0) {
    return `Every member signs in with ${offer}: nobody would be blocked.`;
  }
  const lead = enforcedNow ? 'Blocked now' : `Enforcing ${offer} would block`;
  return `${lead}: ${blocked.join(', ')} (guests keep their project grants).`;
}

function ViewersExecute(props: { ws: IWorkspace }): JSX.Element {
  const ids = useIds();
  const { ws } = props;
  const actions = useActions();
  const key = 'viewers-can-execute';
  const patch = usePatch(ws, key);
  return (
    <div className="jp-WorkspacePermsSettings-setting" data-setting="viewers_can_execute">
      <h4>Running code</h4>
      <label className="jp-WorkspacePermsSettings-check">
        <input
          id={ids(key)}
          type="checkbox"
          checked={ws.viewers_can_execute}
          disabled={!holds(ws.permissions, MANAGE) || actions.busy === key}
          onChange={e => void patch(e, { viewers_can_execute: e.target.checked })}
          {...describedBy(actions, key)}
        />{' '}
        Viewers may run the saved cells of notebooks
      </label>
      <Outcome actionKey={key} />
    </div>
  );
}
