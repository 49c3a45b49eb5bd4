/**
 * How the CLI passes on a device factor's requests to the person: messages on
 * stderr, and pages opened in the desktop's browser where there is one.
 */
import { spawn } from 'node:child_process';
import type { Interaction } from '../factors/inputs.js';

/** Whether a graphical session can show a browser. */
function hasDisplay(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY) || process.platform === 'darwin';
}

/**
 * Opens a URL with `$BIOSEAL_BROWSER`, else the desktop's opener when a
 * display is present. Failure to open is not an error: the URL is printed.
 */
function openInBrowser(url: string, env: NodeJS.ProcessEnv): void {
  const command = env.BIOSEAL_BROWSER || (hasDisplay(env) ? (process.platform === 'darwin' ? 'open' : 'xdg-open') : undefined);
  if (!command || command === 'none') return;
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The printed URL is enough.
  }
}

/** An Interaction that writes to stderr (stdout stays free for --json results). */
export function cliInteraction(env: NodeJS.ProcessEnv = process.env): Interaction {
  return {
    notify(message) {
      process.stderr.write(`${message}\n`);
    },
    openUrl(url) {
      process.stderr.write(`open this page to continue: ${url}\n`);
      openInBrowser(url, env);
    },
  };
}
