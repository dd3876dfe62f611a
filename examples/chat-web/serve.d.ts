/** Types of serve.js (a plain JS example, run with `node`). */

/** A running static server for the chat page. */
export interface ChatWebSite {
  /** `http://host:port/` of the page. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves examples/chat-web/ at `/` and client-sdk-ts/dist/ at `/sdk/`; port 0 picks a free one. */
export function serveChatWeb(opts?: { host?: string; port?: number }): Promise<ChatWebSite>;
