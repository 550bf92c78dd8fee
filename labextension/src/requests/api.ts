/**
 * The access requests REST API (`AccessRequest*` in docs/openapi.yaml), called as the
 * person looking: asking for a higher role, and deciding the requests the server says
 * one may decide (`can_decide`).
 */
import { requestAPI } from '../api';
import { Role } from '../generated';

export type RequestStatus = 'pending' | 'approved' | 'denied';

export interface IAccessRequest {
  id: number;
  workspace: string;
  /** The project asked about; null for a workspace role. */
  project: string | null;
  username: string;
  role: Role;
  current_role: Role | null;
  message: string;
  status: RequestStatus;
  created_at: string;
  updated_at: string;
  decided_by: string | null;
  decided_at: string | null;
  /** Whether the signed-in person may approve or deny it, as the server decided. */
  can_decide: boolean;
  /** Set when a new request was merged into the pending one. */
  merged?: boolean;
}

/** What asking carries (`AccessRequestCreate`). */
export interface IAccessRequestCreate {
  role: Role;
  project?: string;
  message?: string;
}

function base(workspace: string): string {
  return `workspaces/${encodeURIComponent(workspace)}/access-requests`;
}

/** One's own requests and those one may decide, in workspace `workspace`. */
export async function listRequests(workspace: string): Promise<IAccessRequest[]> {
  const answer = await requestAPI<{ requests: IAccessRequest[] }>('GET', base(workspace));
  return answer.requests;
}

/** Ask for a higher role; a pending request for the same place is merged. */
export function createRequest(
  workspace: string,
  request: IAccessRequestCreate
): Promise<IAccessRequest> {
  return requestAPI<IAccessRequest>('POST', base(workspace), request);
}

/** Approve or deny a pending request. */
export function decideRequest(
  workspace: string,
  id: number,
  status: 'approved' | 'denied'
): Promise<IAccessRequest> {
  return requestAPI<IAccessRequest>('PATCH', `${base(workspace)}/${id}`, { status });
}
