/**
 * The extension's REST API, called as the person looking at the page.
 *
 * Every call goes through `ServerConnection.makeRequest` with JupyterLab's own server
 * settings, so it carries this browser's login cookie and XSRF token: the server
 * decides every request for the signed-in person. The browser never decides.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The API's base path, below the server's base URL. */
export const API_PATH = 'api/workspace-perms';

/** A refusal or failure, with the server's machine-readable reason and its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Call `method path` of the REST API (e.g. `requestAPI('GET', 'me')`), with an optional
 * JSON body; the parsed JSON answer (`null` for 204). Errors become {@link ApiError}
 * carrying the server's `{"message", "reason"}`.
 */
export async function requestAPI<T>(
  method: string,
  path: string,
  body?: unknown,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_PATH, path);
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(0, 'network', `the server could not be reached: ${error}`);
  }
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    const reason = (data && data.reason) || 'error';
    const message = (data && data.message) || response.statusText;
    throw new ApiError(response.status, reason, message);
  }
  return data as T;
}

/** The message to show for a failed call: the server's own sentence when it sent one. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    return error.message || `${error.status} ${error.reason}`;
  }
  return error instanceof Error ? error.message : String(error);
}
