/**
 * The HTML of the ownership-transfer confirm page: plain server-rendered HTML, no scripts, every
 * interpolated value escaped.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** Response headers of every transfer page: no scripts, no framing, no referrer (the URL holds the code). */
export const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

// The card keeps 1rem from the screen's edges on a phone (375 px) and sits centred, 32rem wide, on a desktop.
const STYLE = `*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;color:#1b1f24;margin:0;padding:0 1rem}
main{max-width:32rem;margin:4rem auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:2rem;overflow-wrap:anywhere}
@media (max-width:30rem){main{margin:1.5rem auto;padding:1.25rem}}
dl{margin:1rem 0;display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{color:#5b6673}dd{margin:0}
h1{font-size:1.35rem;margin-top:0}label{display:block;font-weight:600;margin:1.2rem 0 .4rem}
input[type=email]{width:100%;padding:.55rem;border:1px solid #b8c0ca;border-radius:4px;font-size:1rem}
button{margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#0b6bcb;color:#fff;font-size:1rem;cursor:pointer}
.error{color:#a61b1b;background:#fdecec;border-radius:4px;padding:.6rem}.muted{color:#5b6673;font-size:.9rem}`;

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface ConfirmFormView {
  /** The provider project's display name (the Neon project's name when Neon provisioned it). */
  projectName: string;
  /** Its description: for a project Neon provisioned, the Neon project it serves ("Neon project shiny-meadow-…"). */
  projectDescription: string;
  code: string;
  nonce: string;
  email?: string;
  error?: string;
  expiresAt: Date;
}

const UTC_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });

/** "in 59 minutes (6 December 2026, 22:05 UTC)": how long the link has, then when, readable in any time zone. */
export function expiryText(expiresAt: Date, now = Date.now()): string {
  const minutes = Math.max(0, Math.round((expiresAt.getTime() - now) / 60_000));
  const left = minutes < 1 ? 'in less than a minute' : minutes < 120 ? `in ${minutes} minute${minutes === 1 ? '' : 's'}` : `in about ${Math.round(minutes / 60)} hours`;
  return `${left} (${UTC_TIME.format(expiresAt)} UTC)`;
}

export function confirmFormPage(v: ConfirmFormView): string {
  const description = v.projectDescription.trim();
  return layout(
    'Transfer project ownership',
    `<h1>Transfer &ldquo;${escapeHtml(v.projectName)}&rdquo;</h1>
<p>Neon manages this project's authentication. Name the account that should own it from now on. Its users, keys
and webhooks keep working.</p>
<dl>
${description ? `<dt>About</dt><dd>${escapeHtml(description)}</dd>
` : ''}<dt>Link</dt><dd>works once, expires <time datetime="${v.expiresAt.toISOString()}">${escapeHtml(expiryText(v.expiresAt))}</time></dd>
</dl>
${v.error ? `<p class="error" role="alert">${escapeHtml(v.error)}</p>` : ''}
<form method="post" action="confirm">
<input type="hidden" name="code" value="${escapeHtml(v.code)}">
<input type="hidden" name="nonce" value="${escapeHtml(v.nonce)}">
<label for="email">Account e-mail</label>
<input id="email" name="email" type="email" required maxlength="254" autocomplete="email" value="${escapeHtml(v.email ?? '')}">
<button type="submit">Confirm transfer</button>
</form>`,
  );
}

export function transferDonePage(projectName: string, email: string): string {
  return layout(
    'Project transferred',
    `<h1>Project transferred</h1>
<p>&ldquo;${escapeHtml(projectName)}&rdquo; now belongs to <strong>${escapeHtml(email)}</strong>.</p>
<p class="muted">You can close this page.</p>`,
  );
}

export function transferErrorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}
