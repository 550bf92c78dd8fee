/**
 * Members and guests of a workspace: add by email with a role, change a role, remove.
 * Enabled by `workspace:manage_members` from the server; its guards decide the rest.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import {
  LoadError,
  Outcome,
  RoleSelect,
  Section,
  UserEvent,
  describedBy,
  expiryText,
  holds,
  roleLabel,
  seg,
  useActions,
  useIds
} from './common';
import { Permission } from '../generated';
import { ISettingsData } from './data';
import { IMember } from './types';

const MANAGE: Permission = 'workspace:manage_members';
/** Why the owner's row cannot be changed here (the server refuses it too). */
const OWNER_LOCKED =
  "the owner's role moves only with jupyter workspace-perms set-owner";

export function MembersSection(props: { data: ISettingsData }): JSX.Element {
  const { data } = props;
  const current = data.current!;
  const canManage = holds(current.permissions, MANAGE);
  const members = data.members;
  return (
    <Section name="members" title="Members">
      {!canManage && (
        <p className="jp-WorkspacePermsSettings-readOnly">
          Read only: you may see the members; adding, changing and removing them is for
          people the server allows to manage members.
        </p>
      )}
      {members && !members.ok && <LoadError message={members.message} />}
      {members && members.ok && (
        <>
          <table className="jp-WorkspacePermsSettings-table" aria-label="Members">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="jp-WorkspacePermsSettings-visuallyHidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.value
                .filter(m => !m.guest)
                .map(m => (
                  <MemberRow
                    key={m.username}
                    slug={current.slug}
                    member={m}
                    canManage={canManage}
                  />
                ))}
            </tbody>
          </table>
          <Guests members={members.value.filter(m => m.guest)} />
        </>
      )}
      <AddMember
        slug={current.slug}
        canManage={canManage}
        enforcedProvider={current.enforced_sso_provider}
      />
    </Section>
  );
}

function Person(props: { member: IMember }): JSX.Element {
  const m = props.member;
  return (
    <>
      <span className="jp-WorkspacePermsSettings-person">{m.display_name || m.username}</span>
      {m.email && m.email !== (m.display_name || m.username) && (
        <span className="jp-WorkspacePermsSettings-muted"> {m.email}</span>
      )}
    </>
  );
}

function MemberRow(props: {
  slug: string;
  member: IMember;
  canManage: boolean;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const m = props.member;
  const [role, setRole] = React.useState(m.role ?? 'viewer');
  // every load re-reads the role: an edit that was not saved does not outlive it
  React.useEffect(() => setRole(m.role ?? 'viewer'), [m]);
  const roleKey = `member-role-${m.username}`;
  const removeKey = `member-remove-${m.username}`;
  const path = `workspaces/${seg(props.slug)}/members/${seg(m.username)}`;
  // the server refuses to demote or remove the owner: the controls say so up front
  const locked = m.owner ? { title: OWNER_LOCKED } : {};
  const save = (e: UserEvent) =>
    actions.run(
      e,
      roleKey,
      () => actions.request('PUT', path, { role }),
      `${m.username} is now ${roleLabel(role)}.`
    );
  const remove = async (e: UserEvent) => {
    const answer = await showDialog({
      title: 'Remove member',
      body:
        `Remove ${m.username} from ${props.slug}? ` +
        `Their project grants in ${props.slug} go too.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })]
    });
    if (answer.button.accept) {
      await actions.run(e, removeKey, () => actions.request('DELETE', path));
    }
  };
  return (
    <tr data-username={m.username}>
      <th scope="row">
        <Person member={m} />
      </th>
      <td>
        <form
          className="jp-WorkspacePermsSettings-inline"
          onSubmit={e => void save(e)}
        >
          <RoleSelect
            id={ids(roleKey)}
            label={`Role of ${m.username}`}
            value={role}
            disabled={!props.canManage || m.owner || actions.busy === roleKey}
            onChange={setRole}
            describedBy={describedBy(actions, roleKey)}
            title={locked.title}
          />
          {props.canManage && (
            <button
              type="submit"
              className="jp-WorkspacePermsSettings-button"
              disabled={m.owner || role === m.role || actions.busy === roleKey}
              {...locked}
            >
              Save role
            </button>
          )}
        </form>
        <Outcome actionKey={roleKey} />
      </td>
      <td>
        <Badges member={m} />
      </td>
      <td>
        {props.canManage && (
          <button
            type="button"
            className="jp-WorkspacePermsSettings-button jp-mod-warn"
            aria-label={`Remove ${m.username}`}
            disabled={m.owner || actions.busy === removeKey}
            onClick={e => void remove(e)}
            {...locked}
            {...describedBy(actions, removeKey)}
          >
            Remove
          </button>
        )}
        <Outcome actionKey={removeKey} />
      </td>
    </tr>
  );
}

function Badges(props: { member: IMember }): JSX.Element {
  const m = props.member;
  return (
    <span className="jp-WorkspacePermsSettings-badges">
      {m.owner && <span className="jp-WorkspacePermsSettings-badge">owner</span>}
      {m.guest && <span className="jp-WorkspacePermsSettings-badge">guest</span>}
      {m.sso_blocked && (
        <span
          className="jp-WorkspacePermsSettings-badge jp-mod-warn"
          title={`last signed in with ${m.login_provider}`}
        >
          SSO-blocked
        </span>
      )}
      <span className="jp-WorkspacePermsSettings-muted">via {m.login_provider}</span>
    </span>
  );
}

function Guests(props: { members: IMember[] }): JSX.Element {
  return (
    <>
      <h4>Guests</h4>
      {props.members.length === 0 ? (
        <p className="jp-WorkspacePermsSettings-muted">No guests.</p>
      ) : (
        <ul className="jp-WorkspacePermsSettings-list" aria-label="Guests">
          {props.members.map(g => (
            <li key={g.username} data-username={g.username}>
              <Person member={g} />
              <ul>
                {g.projects.map(p => (
                  <li key={p.name}>
                    {p.name}: {roleLabel(p.role)}, {expiryText(p.expires_at)}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      <p className="jp-WorkspacePermsSettings-muted">
        Guests have single projects shared with them; manage that under Projects.
      </p>
    </>
  );
}

/**
 * Adds only: `only_new` makes the server refuse somebody who is already a member (the
 * owner included) with their current role, instead of silently changing it; roles of
 * members change in their row.
 */
function AddMember(props: {
  slug: string;
  canManage: boolean;
  enforcedProvider: string | null;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const [email, setEmail] = React.useState('');
  const [role, setRole] = React.useState('viewer');
  const key = 'member-add';
  const added = (m: IMember) => {
    const said = `${m.username} is now a member (${roleLabel(m.role)})`;
    if (!m.sso_blocked) {
      return said + '.';
    }
    const provider = props.enforcedProvider ?? 'the provider this workspace requires';
    return `${said}; they are blocked until they sign in with ${provider}.`;
  };
  const add = async (e: UserEvent) => {
    const done = await actions.run(
      e,
      key,
      () =>
        actions.request<IMember>(
          'PUT',
          `workspaces/${seg(props.slug)}/members/${seg(email.trim())}`,
          { role, only_new: true }
        ),
      added
    );
    if (done) {
      setEmail('');
    }
  };
  return (
    <form
      className="jp-WorkspacePermsSettings-form"
      aria-label="Add a member"
      onSubmit={e => void add(e)}
    >
      <label htmlFor={ids(key + '-email')}>Add a member by email</label>
      <input
        id={ids(key + '-email')}
        type="email"
        required
        value={email}
        placeholder="name@example.com"
        disabled={!props.canManage}
        onChange={e => setEmail(e.target.value)}
        {...describedBy(actions, key)}
      />
      <RoleSelect
        id={ids(key + '-role')}
        label="Role of the new member"
        value={role}
        disabled={!props.canManage}
        onChange={setRole}
      />
      <button
        type="submit"
        className="jp-WorkspacePermsSettings-button"
        disabled={!props.canManage || !email.trim() || actions.busy === key}
      >
        Add member
      </button>
      <Outcome actionKey={key} />
    </form>
  );
}
