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

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;color:#1b1f24;margin:0}
main{max-width:32rem;margin:4rem auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:2rem}
h1{font-size:1.35rem;margin-top:0}label{display:block;font-weight:600;margin:1.2rem 0 .4rem}
input[type=email]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b8c0ca;border-radius:4px;font-size:1rem}
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
  projectName: string;
  projectId: string;
  code: string;
  nonce: string;
  email?: string;
  error?: string;
  expiresAt: Date;
}

export function confirmFormPage(v: ConfirmFormView): string {
  return layout(
    'Transfer project ownership',
    `<h1>Transfer project &ldquo;${escapeHtml(v.projectName)}&rdquo;</h1>
<p>This project is managed by Neon. Name the account that should own it from now on. Its users, keys and
webhooks keep working.</p>
<p class="muted">Project ${escapeHtml(v.projectId)}. This link works once and expires at ${escapeHtml(v.expiresAt.toISOString())}.</p>
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
