/**
 * A comment's Markdown, rendered by JupyterLab's own Markdown renderer as untrusted
 * content: its HTML goes through the application's sanitizer (no scripts, no event
 * handlers). Without a renderer the text is shown as plain text, never as HTML.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { IDisposable } from '@lumino/disposable';
import * as React from 'react';

/** The page's rendermime registry (null: plain text). */
export const RenderMimeContext = React.createContext<IRenderMimeRegistry | null>(
  null
);

const MARKDOWN = 'text/markdown';

/**
 * Render `body` into `host`, replacing what was there; resolves with the renderer to
 * dispose of later (null for plain text). Nothing is shown if `cancelled()` turns true
 * meanwhile.
 */
export async function renderMarkdown(
  host: HTMLElement,
  body: string,
  rendermime: IRenderMimeRegistry | null,
  cancelled: () => boolean = () => false
): Promise<IDisposable | null> {
  if (rendermime === null || !rendermime.mimeTypes.includes(MARKDOWN)) {
    host.textContent = body;
    return null;
  }
  const renderer = rendermime.createRenderer(MARKDOWN);
  // trusted: false — the renderer sanitizes the HTML it makes
  const model = new MimeModel({ data: { [MARKDOWN]: body }, trusted: false });
  try {
    await renderer.renderModel(model);
  } catch (error) {
    console.warn('jupyter-workspace-perms: could not render a comment', error);
    renderer.dispose();
    if (!cancelled()) {
      host.textContent = body;
    }
    return null;
  }
  if (cancelled()) {
    renderer.dispose();
    return null;
  }
  host.replaceChildren(renderer.node);
  return renderer;
}

/** A comment's body. */
export function Markdown(props: { body: string }): JSX.Element {
  const rendermime = React.useContext(RenderMimeContext);
  const host = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    let cancelled = false;
    let rendered: IDisposable | null = null;
    if (host.current) {
      void renderMarkdown(host.current, props.body, rendermime, () => cancelled).then(
        r => (rendered = r)
      );
    }
    return () => {
      cancelled = true;
      rendered?.dispose();
    };
  }, [props.body, rendermime]);
  return <div className="jp-WorkspacePerms-comment-body" ref={host} />;
}
