/**
 * Integrations: a workspace's named secrets for kernels.
 *
 * Everyone who may read the workspace sees each integration's name, its variables by
 * name (never a value: the server sends none) and the projects it is connected to.
 * `workspace:manage_integrations` enables creating, renaming and deleting integrations
 * and setting or removing variables; per project, `project:integrations` enables
 * connecting and disconnecting (`ProjectIntegrations` in connections.tsx, in each
 * project's card).
 *
 * Values are write-only. They are typed into uncontrolled password inputs, so they live
 * neither in React state nor in a DOM attribute; a form reads them once when it is sent,
 * and every value field of the section is emptied as soon as a change went through.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { Permission } from '../generated';
import {
  LoadError,
  Outcome,
  Section,
  UserEvent,
  dateOf,
  describedBy,
  holds,
  seg,
  useActions,
  useIds
} from './common';
import { ISettingsData } from './data';
import { Change, ISecretFields, SecretInput, useChange, useSecretFields } from './secrets';
import { IIntegration, IIntegrationVariable } from './types';

const MANAGE: Permission = 'workspace:manage_integrations';
/** What a value looks like here: the server never sends one, so none is ever shown. */
const MASK = '•••••';

function integrationsPath(slug: string, name?: string): string {
  const base = `workspaces/${seg(slug)}/integrations`;
  return name === undefined ? base : `${base}/${seg(name)}`;
}

function renameKey(name: string): string {
  return `integration-${name}-rename`;
}

function deleteKey(name: string): string {
  return `integration-${name}-delete`;
}

/** "by X on DATE", as far as the server said. */
export function byOn(who: string | null, when: string): string {
  return (who ? ` by ${who}` : '') + (when ? ` on ${dateOf(when)}` : '');
}

export function IntegrationsSection(props: { data: ISettingsData }): JSX.Element {
  const actions = useActions();
  const current = props.data.current!;
  const list = props.data.integrations;
  const canManage = holds(current.permissions, MANAGE);
  const secrets = useSecretFields();
  const change = useChange(secrets);
  const names = list && list.ok ? list.value.map(i => i.name) : [];
  // renaming or deleting removes the card that ran it: say what happened up here
  const gone = Object.keys(actions.notices).filter(
    k =>
      k.startsWith('integration-') &&
      (k.endsWith('-rename') || k.endsWith('-delete')) &&
      !names.some(n => k === renameKey(n) || k === deleteKey(n))
  );
  return (
    <Section name="integrations" title="Integrations">
      <p className="jp-WorkspacePermsSettings-muted">
        Secrets (API keys, passwords) that kernels of connected projects receive as
        environment variables. Values are write-only: once saved, nobody reads them back
        here, Admins included. Connect an integration to a project under Projects.
      </p>
      {!canManage && (
        <p className="jp-WorkspacePermsSettings-readOnly">
          Read only: you see the integrations and their variables by name; creating and
          changing them is for people the server allows to manage integrations.
        </p>
      )}
      {gone.map(k => (
        <p key={k} className="jp-WorkspacePermsSettings-notice" role="status">
          {actions.notices[k]}
        </p>
      ))}
      {list && !list.ok && <LoadError message={list.message} />}
      {list && list.ok && list.value.length === 0 && (
        <p className="jp-WorkspacePermsSettings-muted">No integrations yet.</p>
      )}
      {list &&
        list.ok &&
        list.value.map(i => (
          <Integration
            key={i.name}
            slug={current.slug}
            integration={i}
            canManage={canManage}
            secrets={secrets}
            change={change}
          />
        ))}
      {canManage && (
        <CreateIntegration slug={current.slug} secrets={secrets} change={change} />
      )}
    </Section>
  );
}

function Integration(props: {
  slug: string;
  integration: IIntegration;
  canManage: boolean;
  secrets: ISecretFields;
  change: Change;
}): JSX.Element {
  const ids = useIds();
  const i = props.integration;
  return (
    <article
      className="jp-WorkspacePermsSettings-integration"
      data-integration={i.name}
      aria-labelledby={ids(`integration-${i.name}-title`)}
    >
      <h4 id={ids(`integration-${i.name}-title`)}>{i.name}</h4>
      <p className="jp-WorkspacePermsSettings-muted">
        Created{byOn(i.created_by, i.created_at)} ·{' '}
        {i.projects.length
          ? `Connected to ${i.projects.join(', ')}`
          : 'Not connected to any project you can see'}
      </p>
      <Variables
        slug={props.slug}
        integration={i}
        canManage={props.canManage}
        secrets={props.secrets}
        change={props.change}
      />
      {props.canManage && (
        <div className="jp-WorkspacePermsSettings-inline">
          <Rename slug={props.slug} integration={i} change={props.change} />
          <Delete slug={props.slug} integration={i} change={props.change} />
        </div>
      )}
    </article>
  );
}

/** One row of new variables: a name (not secret) and the id of its value input. */
interface IRow {
  id: string;
  name: string;
}

let nextRow = 0;

function newRow(): IRow {
  return { id: `row${nextRow++}`, name: '' };
}

function useRows(): {
  rows: IRow[];
  setRows: React.Dispatch<React.SetStateAction<IRow[]>>;
  reset: () => void;
} {
  const [rows, setRows] = React.useState<IRow[]>(() => [newRow()]);
  const reset = React.useCallback(() => setRows([newRow()]), []);
  return { rows, setRows, reset };
}

/**
 * Add the rows' variables to `into` (a dictionary without prototype). A row with a name
 * and an empty value keeps a variable in `known` and is refused otherwise; this only
 * checks that the form is complete (the server judges names and values).
 */
function collect(
  rows: IRow[],
  secrets: ISecretFields,
  known: readonly string[],
  into: Record<string, string | null>
): void {
  for (const row of rows) {
    const name = row.name.trim();
    const value = secrets.value(row.id);
    if (!name && !value) {
      continue;
    }
    if (!name) {
      throw new Error('Name the variable whose value you typed.');
    }
    if (Object.prototype.hasOwnProperty.call(into, name)) {
      throw new Error(`${name} is named twice: keep one of its fields.`);
    }
    if (!value) {
      if (known.includes(name)) {
        continue; // an empty value field keeps what is stored
      }
      throw new Error(`Type a value for ${name}, or clear its name.`);
    }
    into[name] = value;
  }
}

/** A dictionary that takes any variable name (`__proto__` included) as its own key. */
function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Rows of NAME / value for new variables, with "Add another variable". */
function VariableRows(props: {
  rows: IRow[];
  setRows: React.Dispatch<React.SetStateAction<IRow[]>>;
  /** Ends each field's label, e.g. " of the new integration" or " in aws". */
  where: string;
  secrets: ISecretFields;
  disabled: boolean;
}): JSX.Element {
  const ids = useIds();
  const { rows, setRows, where } = props;
  const rename = (id: string, name: string) =>
    setRows(rs => rs.map(r => (r.id === id ? { ...r, name } : r)));
  return (
    <div className="jp-WorkspacePermsSettings-variableRows">
      {rows.map((row, n) => (
        <div className="jp-WorkspacePermsSettings-inline" key={row.id}>
          <input
            id={ids(`${row.id}-name`)}
            type="text"
            className="jp-WorkspacePermsSettings-variableName"
            aria-label={`Name of new variable ${n + 1}${where}`}
            placeholder="NAME"
            autoComplete="off"
            spellCheck={false}
            value={row.name}
            disabled={props.disabled}
            onChange={e => rename(row.id, e.target.value)}
          />
          <SecretInput
            id={ids(`${row.id}-value`)}
            fieldId={row.id}
            label={`Value of new variable ${n + 1}${where}`}
            placeholder="value"
            secrets={props.secrets}
            disabled={props.disabled}
          />
          {rows.length > 1 && (
            <button
              type="button"
              className="jp-WorkspacePermsSettings-button jp-mod-plain"
              aria-label={`Remove row ${n + 1}${where}`}
              title="Remove this row"
              disabled={props.disabled}
              onClick={() => setRows(rs => rs.filter(r => r.id !== row.id))}
            >
              ×
            </button>
          )}
        </div>
      ))}
      <button
        type="button"
        className="jp-WorkspacePermsSettings-button jp-mod-plain"
        disabled={props.disabled}
        onClick={() => setRows(rs => [...rs, newRow()])}
      >
        Add another variable
      </button>
    </div>
  );
}

function CreateIntegration(props: {
  slug: string;
  secrets: ISecretFields;
  change: Change;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const { secrets } = props;
  const [name, setName] = React.useState('');
  const { rows, setRows, reset } = useRows();
  const key = 'integration-create';
  const busy = actions.busy === key;
  const create = async (e: UserEvent) => {
    const done = await props.change(
      e,
      key,
      () => {
        const variables = dictionary<string>();
        collect(rows, secrets, [], variables);
        const body = Object.keys(variables).length
          ? { name: name.trim(), variables }
          : { name: name.trim() };
        return actions.request<IIntegration>('POST', integrationsPath(props.slug), body);
      },
      (made: IIntegration) =>
        `Created ${made.name}` +
        (made.variables.length
          ? ` with ${made.variables.map(v => v.name).join(', ')}.`
          : '.')
    );
    if (done) {
      setName('');
      reset();
    }
  };
  return (
    <form
      className="jp-WorkspacePermsSettings-form jp-WorkspacePermsSettings-create"
      aria-label="Create an integration"
      noValidate
      onSubmit={e => void create(e)}
    >
      <h4>Create an integration</h4>
      <div className="jp-WorkspacePermsSettings-inline">
        <label htmlFor={ids(key + '-name')}>Name</label>
        <input
          id={ids(key + '-name')}
          type="text"
          placeholder="e.g. warehouse"
          autoComplete="off"
          spellCheck={false}
          value={name}
          onChange={e => setName(e.target.value)}
          {...describedBy(actions, key)}
        />
      </div>
      <VariableRows
        rows={rows}
        setRows={setRows}
        where=" of the new integration"
        secrets={secrets}
        disabled={busy}
      />
      <div className="jp-WorkspacePermsSettings-inline">
        <button
          type="submit"
          className="jp-WorkspacePermsSettings-button"
          disabled={!name.trim() || busy}
        >
          Create integration
        </button>
        <span className="jp-WorkspacePermsSettings-muted">
          Variables are optional; you can add them later.
        </span>
      </div>
      <Outcome actionKey={key} />
    </form>
  );
}

/** An integration's variables: names and who set them; for managers, set or remove. */
function Variables(props: {
  slug: string;
  integration: IIntegration;
  canManage: boolean;
  secrets: ISecretFields;
  change: Change;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const { integration: i, secrets, canManage } = props;
  const { rows, setRows, reset } = useRows();
  const key = `integration-${i.name}-variables`;
  const busy = actions.busy === key;
  const path = integrationsPath(props.slug, i.name);
  const fieldOf = (v: IIntegrationVariable) => `${i.name}/set/${v.name}`;
  const anyValue =
    i.variables.some(v => secrets.filled.has(fieldOf(v))) ||
    rows.some(r => secrets.filled.has(r.id));
  const save = async (e: UserEvent) => {
    let sent: string[] = [];
    const done = await props.change(
      e,
      key,
      () => {
        const variables = dictionary<string | null>();
        for (const v of i.variables) {
          const value = secrets.value(fieldOf(v));
          if (value) {
            variables[v.name] = value; // an empty field keeps what is stored
          }
        }
        collect(
          rows,
          secrets,
          i.variables.map(v => v.name),
          variables
        );
        sent = Object.keys(variables);
        if (!sent.length) {
          throw new Error('Type a value to set: an empty value field keeps the stored one.');
        }
        return actions.request<IIntegration>('PATCH', path, { variables });
      },
      () => `Saved ${sent.join(', ')} in ${i.name}.`
    );
    if (done) {
      reset();
    }
  };
  const remove = (e: UserEvent, name: string) => {
    const variables = dictionary<null>();
    variables[name] = null;
    return props.change(
      e,
      key,
      () => actions.request<IIntegration>('PATCH', path, { variables }),
      `Removed ${name} from ${i.name}.`
    );
  };
  const table =
    i.variables.length === 0 ? (
      <p className="jp-WorkspacePermsSettings-muted">No variables.</p>
    ) : (
      <table
        className="jp-WorkspacePermsSettings-table"
        aria-label={`Variables of ${i.name}`}
      >
        <thead>
          <tr>
            <th scope="col">Variable</th>
            <th scope="col">Value</th>
            {canManage && <th scope="col">New value</th>}
            {canManage && (
              <th scope="col">
                <span className="jp-WorkspacePermsSettings-visuallyHidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {i.variables.map(v => (
            <tr key={v.name} data-variable={v.name}>
              <th scope="row">
                <code>{v.name}</code>
              </th>
              <td>
                <span
                  className="jp-WorkspacePermsSettings-mask"
                  role="img"
                  aria-label="value hidden"
                >
                  {MASK}
                </span>{' '}
                set{byOn(v.set_by, v.set_at)}
              </td>
              {canManage && (
                <td>
                  <SecretInput
                    id={ids(fieldOf(v))}
                    fieldId={fieldOf(v)}
                    label={`New value of ${v.name} in ${i.name}`}
                    placeholder="unchanged"
                    secrets={secrets}
                    disabled={busy}
                  />
                </td>
              )}
              {canManage && (
                <td>
                  <button
                    type="button"
                    className="jp-WorkspacePermsSettings-button jp-mod-warn"
                    aria-label={`Remove ${v.name} from ${i.name}`}
                    disabled={busy}
                    onClick={e => void remove(e, v.name)}
                    {...describedBy(actions, key)}
                  >
                    Remove
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    );
  if (!canManage) {
    return table;
  }
  return (
    <form
      className="jp-WorkspacePermsSettings-variables"
      aria-label={`Set variables of ${i.name}`}
      noValidate
      onSubmit={e => void save(e)}
    >
      {table}
      <VariableRows
        rows={rows}
        setRows={setRows}
        where={` in ${i.name}`}
        secrets={secrets}
        disabled={busy}
      />
      <div className="jp-WorkspacePermsSettings-inline">
        <button
          type="submit"
          className="jp-WorkspacePermsSettings-button"
          disabled={!anyValue || busy}
          {...describedBy(actions, key)}
        >
          Save variables
        </button>
        <span className="jp-WorkspacePermsSettings-muted">
          Values are write-only: an empty value field keeps the stored value.
        </span>
      </div>
      <Outcome actionKey={key} />
    </form>
  );
}

function Rename(props: {
  slug: string;
  integration: IIntegration;
  change: Change;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const i = props.integration;
  const [to, setTo] = React.useState('');
  const key = renameKey(i.name);
  const wanted = to.trim();
  const rename = (e: UserEvent) =>
    props.change(
      e,
      key,
      () =>
        actions.request<IIntegration>('PATCH', integrationsPath(props.slug, i.name), {
          name: wanted
        }),
      (renamed: IIntegration) => `Renamed ${i.name} to ${renamed.name}.`
    );
  return (
    <form
      className="jp-WorkspacePermsSettings-inline"
      aria-label={`Rename ${i.name}`}
      noValidate
      onSubmit={e => void rename(e)}
    >
      <label htmlFor={ids(key)}>Rename to</label>
      <input
        id={ids(key)}
        type="text"
        autoComplete="off"
        spellCheck={false}
        value={to}
        placeholder={i.name}
        onChange={e => setTo(e.target.value)}
        {...describedBy(actions, key)}
      />
      <button
        type="submit"
        className="jp-WorkspacePermsSettings-button"
        disabled={!wanted || wanted === i.name || actions.busy === key}
      >
        Rename
      </button>
      <Outcome actionKey={key} />
    </form>
  );
}

function Delete(props: {
  slug: string;
  integration: IIntegration;
  change: Change;
}): JSX.Element {
  const actions = useActions();
  const i = props.integration;
  const key = deleteKey(i.name);
  const remove = async (e: UserEvent) => {
    const where = i.projects.length
      ? `It is disconnected from ${i.projects.join(', ')}` +
        ' (and any project you cannot see); kernels'
      : 'Kernels';
    const answer = await showDialog({
      title: 'Delete integration',
      body:
        `Delete ${i.name} and its stored values? ${where} started or restarted from ` +
        'now on no longer get its variables. This cannot be undone.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await props.change(
        e,
        key,
        () => actions.request('DELETE', integrationsPath(props.slug, i.name)),
        `Deleted ${i.name}.`
      );
    }
  };
  return (
    <div className="jp-WorkspacePermsSettings-inline">
      <button
        type="button"
        className="jp-WorkspacePermsSettings-button jp-mod-warn"
        aria-label={`Delete ${i.name}`}
        disabled={actions.busy === key}
        onClick={e => void remove(e)}
        {...describedBy(actions, key)}
      >
        Delete integration
      </button>
      <Outcome actionKey={key} />
    </div>
  );
}
