/**
 * Reading everything the settings page shows, as the person looking.
 *
 * Each section's data is loaded on its own, so a refusal of one (a guest may not list
 * members, a blocked member may not read settings) shows in that section while the rest
 * of the page still works.
 */
import { requestAPI } from '../api';
import { IAccessRequest, listRequests } from '../requests/api';
import { Permission } from '../generated';
import { holds, messageOf, seg } from './common';
import {
  IConnectionList,
  IIntegration,
  IMe,
  IMeWorkspace,
  IMember,
  IProject,
  IServerStatus,
  IToken,
  ITokenList,
  IWorkspace,
  Loaded
} from './types';

const WORKSPACE_READ: Permission = 'workspace:read';
const PROJECT_READ: Permission = 'project:read';

export interface ISettingsData {
  me: IMe;
  /** The workspace shown, as `/me` lists it; null when the person belongs to none. */
  current: IMeWorkspace | null;
  /** Set when the workspace asked for is not one of the person's. */
  notFound: string | null;
  workspace: Loaded<IWorkspace> | null;
  members: Loaded<IMember[]> | null;
  /** Each project the person may open, with its collaborators, by name. */
  projects: Record<string, Loaded<IProject>>;
  tokens: Loaded<IToken[]>;
  /** The latest expiry a token made now may get, as the server answered (or null). */
  latestTokenExpiry: string | null;
  /** The server's status: whether kernels run in the sandbox. */
  status: Loaded<IServerStatus>;
  /** The workspace's integrations (names only); null without `workspace:read`. */
  integrations: Loaded<IIntegration[]> | null;
  /** The integrations connected to each project the person may read, by name. */
  connections: Record<string, Loaded<IConnectionList>>;
  /** The person's own access requests and those they may decide; null outside. */
  requests: Loaded<IAccessRequest[]> | null;
}

async function loaded<T>(call: Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    return { ok: false, message: messageOf(error) };
  }
}

/** Everything for workspace `slug` (or the first of the person's workspaces). */
export async function loadSettings(slug: string | null): Promise<ISettingsData> {
  const me = await requestAPI<IMe>('GET', 'me');
  let current = me.workspaces.find(w => w.slug === slug) ?? null;
  const notFound = slug && !current ? slug : null;
  if (!current && !slug) {
    current = me.workspaces[0] ?? null;
  }
  const tokenList = loaded(requestAPI<ITokenList>('GET', 'tokens'));
  const tokens = tokenList.then(
    (t): Loaded<IToken[]> => (t.ok ? { ok: true, value: t.value.tokens } : t)
  );
  const latestTokenExpiry = tokenList.then(t => (t.ok ? t.value.latest_expiry : null));
  const status = loaded(requestAPI<IServerStatus>('GET', 'status'));
  if (!current) {
    return {
      me,
      current,
      notFound,
      workspace: null,
      members: null,
      projects: {},
      tokens: await tokens,
      latestTokenExpiry: await latestTokenExpiry,
      status: await status,
      integrations: null,
      connections: {},
      requests: null
    };
  }
  const ws = seg(current.slug);
  const openable = current.projects.filter(p => !p.name_only);
  // guests and members blocked by enforced SSO hold no workspace permission (as `me`
  // says): the page explains that instead of asking for what the server would refuse
  const readable = holds(current.permissions, WORKSPACE_READ);
  const readers = openable.filter(p => holds(p.permissions, PROJECT_READ));
  // members and guests may ask; the server lists what each may see
  const asks = !current.sso_blocked && (current.role !== null || current.guest);
  const [workspace, members, details, integrations, connected, requests] = await Promise.all([
    readable ? loaded(requestAPI<IWorkspace>('GET', `workspaces/${ws}`)) : null,
    readable
      ? loaded(
          requestAPI<{ members: IMember[] }>('GET', `workspaces/${ws}/members`).then(
            m => m.members
          )
        )
      : null,
    Promise.all(
      openable.map(p =>
        loaded(requestAPI<IProject>('GET', `workspaces/${ws}/projects/${seg(p.name)}`))
      )
    ),
    readable
      ? loaded(
          requestAPI<{ integrations: IIntegration[] }>(
            'GET',
            `workspaces/${ws}/integrations`
          ).then(i => i.integrations)
        )
      : null,
    Promise.all(
      readers.map(p =>
        loaded(
          requestAPI<IConnectionList>(
            'GET',
            `workspaces/${ws}/projects/${seg(p.name)}/integrations`
          )
        )
      )
    ),
    asks ? loaded(listRequests(current.slug)) : null
  ]);
  const projects: Record<string, Loaded<IProject>> = {};
  openable.forEach((p, i) => (projects[p.name] = details[i]));
  const connections: Record<string, Loaded<IConnectionList>> = {};
  readers.forEach((p, i) => (connections[p.name] = connected[i]));
  return {
    me,
    current,
    notFound,
    workspace,
    members,
    projects,
    tokens: await tokens,
    latestTokenExpiry: await latestTokenExpiry,
    status: await status,
    integrations,
    connections,
    requests
  };
}
