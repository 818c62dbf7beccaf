// HTML by tagged templates: every interpolated value is escaped unless it
// is already Html (a fragment built the same way). No template engine.
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const escapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => escapes[c]!);

function piece(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += piece(value) + strings[i + 1]!;
  });
  return new Html(out);
}

export const raw = (text: string) => new Html(text);

/** JSON pretty-printed for a <pre>. */
export const json = (value: unknown) =>
  value === null || value === undefined
    ? html`<i>none</i>`
    : html`<pre>${JSON.stringify(value, null, 2)}</pre>`;

/** Query string from the given values (empty ones left out). */
export function query(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : "";
}

export interface PageContext {
  title: string;
  csrf: string;
  /** The role may act (an operator) and the token, if any, allows it. */
  canAct: boolean;
  /** Why actions are off, when they are. */
  actionsOff: string | null;
  /** Run id this page follows live ("*" for any run), or null. */
  live: string | null;
}

export function layout(ctx: PageContext, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${ctx.csrf}">
<title>${ctx.title} · rowflow</title>
<link rel="stylesheet" href="/assets/dashboard.css">
</head><body${ctx.live === null ? "" : raw(` data-live="${escapeHtml(ctx.live)}"`)}>
<header><a class="brand" href="/">rowflow</a>
<nav><a href="/">Runs</a><a href="/workflows">Workflows</a><a href="/inbox">Inbox</a><a href="/designer">Designer</a></nav>
<span id="live-state" class="muted"></span></header>
${ctx.actionsOff === null ? "" : html`<p class="notice" id="actions-off">Read-only: ${ctx.actionsOff}</p>`}
<main>${body}</main>
<script src="/assets/dashboard.js"></script>
</body></html>`;
}

/** A POST form with the CSRF token; disabled when the dashboard may not act. */
export function actionForm(
  ctx: PageContext,
  action: string,
  label: string,
  fields: Record<string, string> = {},
  extra: Html = html``,
): Html {
  const hidden = Object.entries(fields).map(
    ([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`,
  );
  return html`<form method="post" action="${action}" class="action">
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />${hidden}${extra}
    <button type="submit" ${ctx.canAct ? "" : raw(" disabled")}>${label}</button>
  </form>`;
}
