/**
 * Projects: what members get (full / view / none) and collaborators with a role and an
 * optional expiry. Each project's controls are enabled by its own `project:share`.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { PROJECT_ACCESS, Permission, ProjectAccess } from '../generated';
import {
  LoadError,
  Outcome,
  RoleSelect,
  Section,
  UserEvent,
  dateOf,
  describedBy,
  expiryFromDate,
  expiryText,
  holds,
  roleLabel,
  seg,
  today,
  useActions,
  useIds
} from './common';
import { ISettingsData } from './data';
import { ProjectIntegrations } from './connections';
import {
  ICollaborator,
  IConnectionList,
  IIntegration,
  IProject,
  IProjectSummary,
  Loaded
} from './types';

const SHARE: Permission = 'project:share';
const ACCESS_LEVELS = Object.keys(PROJECT_ACCESS) as ProjectAccess[];

function accessLabel(access: string): string {
  const known = PROJECT_ACCESS[access as ProjectAccess];
  return known ? known.label : access;
}

export function ProjectsSection(props: {
  data: ISettingsData;
  focus: string | null;
}): JSX.Element {
  const current = props.data.current!;
  return (
    <Section name="projects" title="Projects">
      {current.projects.length === 0 && (
        <p className="jp-WorkspacePermsSettings-muted">No projects you can see.</p>
      )}
      {current.projects.map(p => (
        <Project
          key={p.name}
          slug={current.slug}
          summary={p}
          detail={props.data.projects[p.name] ?? null}
          connections={props.data.connections[p.name] ?? null}
          integrations={props.data.integrations}
          focused={props.focus === p.name}
        />
      ))}
    </Section>
  );
}

function Project(props: {
  slug: string;
  summary: IProjectSummary;
  detail: Loaded<IProject> | null;
  /** The integrations connected to it (null where the person may not read it). */
  connections: Loaded<IConnectionList> | null;
  /** The workspace's integrations, to connect from. */
  integrations: Loaded<IIntegration[]> | null;
  focused: boolean;
}): JSX.Element {
  const ids = useIds();
  const { summary: p, detail } = props;
  const ref = React.useRef<HTMLElement>(null);
  React.useEffect(() => {
    if (props.focused) {
      ref.current?.scrollIntoView?.({ block: 'start' });
    }
  }, [props.focused]);
  const canShare = holds(p.permissions, SHARE);
  return (
    <article
      ref={ref}
      className={
        'jp-WorkspacePermsSettings-project' + (props.focused ? ' jp-mod-focused' : '')
      }
      data-project={p.name}
      aria-labelledby={ids(`project-${p.name}-title`)}
    >
      <h4 id={ids(`project-${p.name}-title`)}>{p.name}</h4>
      <p className="jp-WorkspacePermsSettings-muted">
        {p.name_only
          ? 'Private: listed by name for governance; only its collaborators can open it.'
          : `Your role: ${roleLabel(p.role)}`}
        {p.creator && ` · created by ${p.creator}`}
      </p>
      <Access slug={props.slug} project={p} canShare={canShare} />
      {detail && !detail.ok && <LoadError message={detail.message} />}
      {detail && detail.ok && (
        <Collaborators
          slug={props.slug}
          project={detail.value}
          canShare={canShare}
        />
      )}
      <ProjectIntegrations
        slug={props.slug}
        project={p}
        connections={props.connections}
        available={props.integrations}
      />
    </article>
  );
}

function projectPath(slug: string, name: string): string {
  return `workspaces/${seg(slug)}/projects/${seg(name)}`;
}

function Access(props: {
  slug: string;
  project: IProjectSummary;
  canShare: boolean;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const p = props.project;
  const [access, setAccess] = React.useState(p.access);
  React.useEffect(() => setAccess(p.access), [p]);
  const key = `project-access-${p.name}`;
  const save = (e: UserEvent) =>
    actions.run(
      e,
      key,
      () => actions.request('PATCH', projectPath(props.slug, p.name), { access }),
      `Members now get ${accessLabel(access)} access.`
    );
  return (
    <form className="jp-WorkspacePermsSettings-inline" onSubmit={e => void save(e)}>
      <label htmlFor={ids(key)}>Members get</label>
      <select
        id={ids(key)}
        value={access}
        disabled={!props.canShare || actions.busy === key}
        onChange={e => setAccess(e.target.value as ProjectAccess)}
        {...describedBy(actions, key)}
      >
        {ACCESS_LEVELS.map(a => (
          <option key={a} value={a} title={PROJECT_ACCESS[a].description}>
            {accessLabel(a)}
          </option>
        ))}
      </select>
      {props.canShare && (
        <button
          type="submit"
          className="jp-WorkspacePermsSettings-button"
          disabled={access === p.access || actions.busy === key}
        >
          Save access
        </button>
      )}
      <span className="jp-WorkspacePermsSettings-muted">
        {PROJECT_ACCESS[p.access as ProjectAccess]?.description ?? ''}
      </span>
      <Outcome actionKey={key} />
    </form>
  );
}

function Collaborators(props: {
  slug: string;
  project: IProject;
  canShare: boolean;
}): JSX.Element {
  const { project } = props;
  return (
    <div className="jp-WorkspacePermsSettings-collaborators">
      <h5>Collaborators</h5>
      {project.collaborators.length === 0 ? (
        <p className="jp-WorkspacePermsSettings-muted">Not shared with anyone individually.</p>
      ) : (
        <table
          className="jp-WorkspacePermsSettings-table"
          aria-label={`Collaborators of ${project.name}`}
        >
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Role and expiry</th>
              <th scope="col">
                <span className="jp-WorkspacePermsSettings-visuallyHidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {project.collaborators.map(c => (
              <Collaborator
                key={c.username}
                slug={props.slug}
                project={project.name}
                collaborator={c}
                canShare={props.canShare}
              />
            ))}
          </tbody>
        </table>
      )}
      <Share slug={props.slug} project={project.name} canShare={props.canShare} />
    </div>
  );
}

function Collaborator(props: {
  slug: string;
  project: string;
  collaborator: ICollaborator;
  canShare: boolean;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const c = props.collaborator;
  const [role, setRole] = React.useState(c.role);
  const [until, setUntil] = React.useState(dateOf(c.expires_at));
  React.useEffect(() => {
    setRole(c.role);
    setUntil(dateOf(c.expires_at));
  }, [c]);
  const base = `collaborator-${props.project}-${c.username}`;
  const path = `${projectPath(props.slug, props.project)}/collaborators/${seg(c.username)}`;
  const save = (e: UserEvent) =>
    actions.run(e, base + '-save', () =>
      actions.request('PUT', path, { role, expires_at: expiryFromDate(until) })
    );
  const remove = async (e: UserEvent) => {
    const answer = await showDialog({
      title: 'Stop sharing',
      body: `Stop sharing ${props.project} with ${c.username}?`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Stop sharing' })]
    });
    if (answer.button.accept) {
      await actions.run(e, base + '-remove', () => actions.request('DELETE', path));
    }
  };
  const changed = role !== c.role || until !== dateOf(c.expires_at);
  return (
    <tr data-username={c.username}>
      <th scope="row">
        {c.username}
        {c.guest && <span className="jp-WorkspacePermsSettings-badge">guest</span>}
      </th>
      <td>
        <form
          className="jp-WorkspacePermsSettings-inline"
          noValidate
          onSubmit={e => void save(e)}
        >
          <RoleSelect
            id={ids(base + '-role')}
            label={`Role of ${c.username} on ${props.project}`}
            value={role}
            disabled={!props.canShare}
            onChange={setRole}
            describedBy={describedBy(actions, base + '-save')}
          />
          {props.canShare && (
            <>
              <label htmlFor={ids(base + '-until')}>until</label>
              <input
                id={ids(base + '-until')}
                type="date"
                value={until}
                min={today()}
                onChange={e => setUntil(e.target.value)}
              />
            </>
          )}
          {props.canShare && (
            <button
              type="submit"
              className="jp-WorkspacePermsSettings-button"
              disabled={!changed || actions.busy === base + '-save'}
            >
              Save
            </button>
          )}
          {!props.canShare && (
            <span className="jp-WorkspacePermsSettings-muted">{expiryText(c.expires_at)}</span>
          )}
        </form>
        <Outcome actionKey={base + '-save'} />
      </td>
      <td>
        {props.canShare && (
          <button
            type="button"
            className="jp-WorkspacePermsSettings-button jp-mod-warn"
            aria-label={`Stop sharing ${props.project} with ${c.username}`}
            onClick={e => void remove(e)}
            disabled={actions.busy === base + '-remove'}
            {...describedBy(actions, base + '-remove')}
          >
            Remove
          </button>
        )}
        <Outcome actionKey={base + '-remove'} />
      </td>
    </tr>
  );
}

function Share(props: { slug: string; project: string; canShare: boolean }): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const [email, setEmail] = React.useState('');
  const [role, setRole] = React.useState('viewer');
  const [until, setUntil] = React.useState('');
  const key = `share-${props.project}`;
  const share = async (e: UserEvent) => {
    const path =
      projectPath(props.slug, props.project) + `/collaborators/${seg(email.trim())}`;
    const done = await actions.run(
      e,
      key,
      () => actions.request('PUT', path, { role, expires_at: expiryFromDate(until) }),
      `Shared with ${email.trim()}.`
    );
    if (done) {
      setEmail('');
      setUntil('');
    }
  };
  return (
    <form
      className="jp-WorkspacePermsSettings-form"
      aria-label={`Share ${props.project}`}
      noValidate
      onSubmit={e => void share(e)}
    >
      <label htmlFor={ids(key + '-email')}>Share {props.project} with</label>
      <input
        id={ids(key + '-email')}
        type="email"
        required
        placeholder="name@example.com"
        value={email}
        disabled={!props.canShare}
        onChange={e => setEmail(e.target.value)}
        {...describedBy(actions, key)}
      />
      <RoleSelect
        id={ids(key + '-role')}
        label={`Role on ${props.project}`}
        value={role}
        disabled={!props.canShare}
        onChange={setRole}
      />
      <label htmlFor={ids(key + '-until')}>until (optional)</label>
      <input
        id={ids(key + '-until')}
        type="date"
        value={until}
        min={today()}
        disabled={!props.canShare}
        onChange={e => setUntil(e.target.value)}
      />
      <button
        type="submit"
        className="jp-WorkspacePermsSettings-button"
        disabled={!props.canShare || !email.trim() || actions.busy === key}
      >
        Share
      </button>
      <Outcome actionKey={key} />
    </form>
  );
}
