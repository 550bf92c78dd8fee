/**
 * The REST API's answers the settings page reads (docs/openapi.yaml is the reference).
 *
 * Only shapes live here: what a person may do comes from the `permissions` lists the
 * server puts in these answers, never from role names.
 */

// What `GET me` answers: the shapes the rest of the extension reads it with.
import type { IProjectSummary } from '../session';
export type { IIdentity, IMe, IMeWorkspace, IProjectSummary } from '../session';

export interface IWorkspace {
  slug: string;
  name: string;
  owner: string;
  role: string | null;
  permissions: string[];
  domain_invites: boolean;
  enforced_sso_provider: string | null;
  viewers_can_execute: boolean;
  invite_domain: string | null;
  domain_invites_available: boolean;
  domain_invites_reason: string | null;
  domain_invites_message: string | null;
  sso_provider_offer: string;
  sso_offer_would_block: string[];
}

export interface IMemberGrant {
  name: string;
  role: string;
  expires_at: string | null;
}

export interface IMember {
  username: string;
  email: string;
  display_name: string;
  login_provider: string;
  role: string | null;
  owner: boolean;
  guest: boolean;
  sso_blocked: boolean;
  projects: IMemberGrant[];
}

export interface ICollaborator {
  username: string;
  role: string;
  expires_at: string | null;
  guest: boolean;
}

export interface IProject extends IProjectSummary {
  workspace: string;
  collaborators: ICollaborator[];
}

export interface IToken {
  id: number;
  prefix: string;
  note: string;
  login_provider: string;
  created_at: string;
  expires_at: string | null;
  revoked: boolean;
}

export interface ITokenList {
  tokens: IToken[];
  /** The latest expiry a token created now may get (the server's bound). */
  latest_expiry: string;
}

export interface ITokenCreated extends IToken {
  token: string;
}

/** `GET status`: the kernel sandbox's verdict (its self-test only for Admins). */
export interface IKernelIsolation {
  kernels: 'bubblewrap' | 'none';
  confined: boolean;
  mode: 'required' | 'auto' | 'off';
  configured_mode: string;
  network: 'shared' | 'none';
  message: string;
  self_test?: { working: boolean; detail: string; seconds: number } | null;
}

export interface IServerStatus {
  version: string;
  isolation: IKernelIsolation;
  details: boolean;
}

/** A variable of an integration: its name and who set it, never its value. */
export interface IIntegrationVariable {
  name: string;
  set_by: string | null;
  set_at: string;
}

/** `GET workspaces/{ws}/integrations`: one integration (values are write-only). */
export interface IIntegration {
  name: string;
  created_by: string | null;
  created_at: string;
  variables: IIntegrationVariable[];
  /** The connected projects the person may read. */
  projects: string[];
}

/** An integration connected to a project: names only. */
export interface IConnection {
  name: string;
  variables: string[];
  connected_by: string | null;
  connected_at: string;
}

/** `GET …/projects/{project}/integrations`; `message` says when kernels get them. */
export interface IConnectionList {
  integrations: IConnection[];
  message: string;
}

/** What connecting or disconnecting answers: `message` holds the restart hint. */
export interface IConnected {
  integration: string;
  project: string;
  connected: boolean;
  running_kernels: number;
  message: string;
}

/** An answer or the refusal that replaced it: each section shows its own. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; message: string };
