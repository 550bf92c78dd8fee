/**
 * Reading everything the settings page shows, as the person looking.
 *
 * Each section's data is loaded on its own, so a refusal of one (a guest may not list
 * members, a blocked member may not read settings) shows in that section while the rest
 * of the page still works.
 */
import { requestAPI } from '../api';
import { Permission } from '../generated';
import { holds, messageOf, seg } from './common';
import {
  IMe,
  IMeWorkspace,
  IMember,
  IProject,
  IToken,
  ITokenList,
  IWorkspace,
  Loaded
} from './types';

const WORKSPACE_READ: Permission = 'workspace:read';

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
  if (!current) {
    return {
      me,
      current,
      notFound,
      workspace: null,
      members: null,
      projects: {},
      tokens: await tokens,
      latestTokenExpiry: await latestTokenExpiry
    };
  }
  const ws = seg(current.slug);
  const openable = current.projects.filter(p => !p.name_only);
  // guests and members blocked by enforced SSO hold no workspace permission (as `me`
  // says): the page explains that instead of asking for what the server would refuse
  const readable = holds(current.permissions, WORKSPACE_READ);
  const [workspace, members, details] = await Promise.all([
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
    )
  ]);
  const projects: Record<string, Loaded<IProject>> = {};
  openable.forEach((p, i) => (projects[p.name] = details[i]));
  return {
    me,
    current,
    notFound,
    workspace,
    members,
    projects,
    tokens: await tokens,
    latestTokenExpiry: await latestTokenExpiry
  };
}
