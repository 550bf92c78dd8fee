/**
 * Pieces every section of the settings page shares: running a change as the person
 * looking, showing the server's refusal next to the control that caused it, role and
 * date inputs.
 */
import * as React from 'react';

import { messageOf, requestAPI } from '../api';
import { ROLES } from '../generated';

/** Whether the server's `permissions` list holds `permission` (the browser never infers). */
export function holds(
  permissions: readonly string[] | undefined,
  permission: string
): boolean {
  return !!permissions && permissions.includes(permission);
}

// The message to show for a failed call: the server's own sentence when it sent one.
export { messageOf };

/** An event only a person can cause: a trusted click, key press, change or submit. */
export type UserEvent = React.SyntheticEvent<Element, Event>;

/**
 * Runs changes (writes) for one view and keeps each control's refusal.
 *
 * A change runs only from a trusted user event: never from a message, a trait change
 * or a script (an ipywidget's kernel can ask the view to refresh, nothing more).
 */
export interface IActions {
  /** Makes this view's DOM ids unique: several views can share one page. */
  readonly prefix: string;
  /** The key of the change running now, if any (its control shows it is busy). */
  readonly busy: string | null;
  /** The server's refusal of the last try of each control, by key. */
  readonly errors: Readonly<Record<string, string>>;
  /** What the last successful change of each control did, by key. */
  readonly notices: Readonly<Record<string, string>>;
  /**
   * Run `call` for the control `key` because of `event`; reload the page after a
   * success, then say `done` (a sentence, or one made from the server's answer).
   * Resolves to whether the change went through.
   */
  run<T>(
    event: UserEvent,
    key: string,
    call: () => Promise<T>,
    done?: string | ((answer: T) => string)
  ): Promise<boolean>;
  /** Forget every refusal and notice (another workspace is shown). */
  clear(): void;
  /** A request to the REST API as the person looking (what `call`s use). */
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export const ActionsContext = React.createContext<IActions | null>(null);

/** The actions of the enclosing settings view. */
export function useActions(): IActions {
  const actions = React.useContext(ActionsContext);
  if (!actions) {
    throw new Error('settings sections need an ActionsContext');
  }
  return actions;
}

/**
 * The state behind {@link IActions}: `reload` re-reads everything after a change;
 * `prefix` is unique to the view.
 */
export function useActionState(
  prefix: string,
  reload: () => Promise<void>
): IActions {
  const [busy, setBusy] = React.useState<string | null>(null);
  const [errors, setErrors] = React.useState<Record<string, string>>({});
  const [notices, setNotices] = React.useState<Record<string, string>>({});
  const run = React.useCallback(
    async <T,>(
      event: UserEvent,
      key: string,
      call: () => Promise<T>,
      done: string | ((answer: T) => string) = 'Saved.'
    ) => {
      event.preventDefault(); // a form's submit never navigates
      if (!event.nativeEvent.isTrusted) {
        setErrors(e => ({
          ...e,
          [key]: 'changes are made only by your own click or key press'
        }));
        return false;
      }
      setBusy(key);
      setErrors(({ [key]: _dropped, ...rest }) => rest);
      setNotices(({ [key]: _dropped, ...rest }) => rest);
      let answer: T;
      try {
        answer = await call();
      } catch (error) {
        setErrors(e => ({ ...e, [key]: messageOf(error) }));
        setBusy(null);
        return false;
      }
      setBusy(null);
      await reload();
      const said = typeof done === 'function' ? done(answer) : done;
      setNotices(n => ({ ...n, [key]: said }));
      return true;
    },
    [reload]
  );
  const clear = React.useCallback(() => {
    setErrors({});
    setNotices({});
  }, []);
  return React.useMemo(
    () => ({
      prefix,
      clear,
      busy,
      errors,
      notices,
      run,
      request: <T,>(method: string, path: string, body?: unknown) =>
        requestAPI<T>(method, path, body)
    }),
    [prefix, clear, busy, errors, notices, run]
  );
}

/** A DOM id for a control key, unique to the view (labels and refusals use ids). */
export function domId(prefix: string, key: string): string {
  return `wsp-${prefix}-` + key.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** This view's {@link domId}. */
export function useIds(): (key: string) => string {
  const { prefix } = useActions();
  return React.useCallback((key: string) => domId(prefix, key), [prefix]);
}

/**
 * What became of control `key`'s last change: the server's refusal (an alert) or what
 * the change did (a status), both announced to screen readers.
 */
export function Outcome(props: { actionKey: string }): JSX.Element | null {
  const { errors, notices, prefix } = useActions();
  const message = errors[props.actionKey];
  if (message) {
    return (
      <p
        className="jp-WorkspacePermsSettings-refusal"
        role="alert"
        id={domId(prefix, props.actionKey) + '-refusal'}
      >
        {message}
      </p>
    );
  }
  const notice = notices[props.actionKey];
  return notice ? (
    <p className="jp-WorkspacePermsSettings-notice" role="status">
      {notice}
    </p>
  ) : null;
}

/** The `aria-describedby` that ties a control to its refusal, when there is one. */
export function describedBy(
  actions: IActions,
  key: string
): { 'aria-describedby'?: string } {
  return actions.errors[key]
    ? { 'aria-describedby': domId(actions.prefix, key) + '-refusal' }
    : {};
}

/** One section of the settings page: a heading that labels it, then its content. */
export function Section(props: {
  name: string;
  title: string;
  children?: React.ReactNode;
}): JSX.Element {
  const ids = useIds();
  return (
    <section
      className="jp-WorkspacePermsSettings-section"
      aria-labelledby={ids(`${props.name}-title`)}
      data-section={props.name}
    >
      <h3 id={ids(`${props.name}-title`)}>{props.title}</h3>
      {props.children}
    </section>
  );
}

/** A visible, announced "loading" line. */
export function Loading(props: { what: string }): JSX.Element {
  return (
    <p className="jp-WorkspacePermsSettings-loading" role="status" aria-live="polite">
      <span className="jp-WorkspacePermsSettings-spinner" aria-hidden="true" />
      Loading {props.what}…
    </p>
  );
}

/** A section's own load failure (e.g. a guest may not list members). */
export function LoadError(props: { message: string }): JSX.Element {
  return <p className="jp-WorkspacePermsSettings-loadError">{props.message}</p>;
}

/** A role name as people read it. */
export function roleLabel(role: string | null): string {
  return role ? role[0].toUpperCase() + role.slice(1) : 'no role';
}

/** A role picker over the generated role list. */
export function RoleSelect(props: {
  id: string;
  label: string;
  value: string;
  disabled: boolean;
  onChange: (role: string) => void;
  describedBy?: { 'aria-describedby'?: string };
  /** A tooltip, e.g. why the picker is disabled. */
  title?: string;
}): JSX.Element {
  return (
    <select
      id={props.id}
      aria-label={props.label}
      value={props.value}
      disabled={props.disabled}
      title={props.title}
      onChange={e => props.onChange(e.target.value)}
      {...(props.describedBy ?? {})}
    >
      {ROLES.map(role => (
        <option key={role} value={role}>
          {roleLabel(role)}
        </option>
      ))}
    </select>
  );
}

/**
 * An ISO expiry for the end of the picked day (local time), or null for none. With
 * `latest` (the latest expiry the server allows, as it answered), the last day offered
 * ends at that moment rather than at midnight, which the server would refuse.
 */
export function expiryFromDate(day: string, latest: string | null = null): string | null {
  if (!day) {
    return null;
  }
  const end = new Date(`${day}T23:59:59`);
  if (latest && dateOf(latest) === day && new Date(latest) < end) {
    return new Date(latest).toISOString();
  }
  return end.toISOString();
}

/** Today in local time (YYYY-MM-DD): the earliest day a date input offers. */
export function today(): string {
  return dateOf(new Date().toISOString());
}

/** The day of an ISO timestamp in local time (YYYY-MM-DD), for date inputs. */
export function dateOf(iso: string | null): string {
  if (!iso) {
    return '';
  }
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** An expiry as people read it. */
export function expiryText(iso: string | null): string {
  return iso ? `until ${dateOf(iso)}` : 'no expiry';
}

/** A path segment of the REST API (emails and names are encoded). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}
