// The page's stylesheet and script, served from memory (/assets/…): no
// bundler, no CDN. The script keeps the page live: an EventSource on
// /events (fed by LISTEN, see live.ts) refetches the page and swaps the
// [data-refresh] parts; while it is not connected it polls every 3 s; a
// hidden tab does neither. While a Gantt bar is open it refetches every 2 s.
export const css = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1.5em;align-items:center;background:#1d2330;color:#fff;padding:.6em 1.2em}
header a{color:#fff;text-decoration:none;margin-right:1em}.brand{font-weight:700}
main{padding:1em 1.5em}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.4em}
table{border-collapse:collapse;background:#fff;width:100%}td,th{padding:.35em .6em;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
.muted{color:#7a8291}.error{color:#a3262a}pre{margin:0;white-space:pre-wrap;max-width:60em;font-size:12px}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;background:#dde1e7;color:#1d2330;text-decoration:none;font-size:12px}
.counts a{margin-right:.3em}.counts .current{outline:2px solid #1d2330}
.s-succeeded{background:#c9ecd3}.s-failed{background:#f6c9c9}.s-running{background:#cfe0fb}.s-queued{background:#f3e7b8}
.s-cancelled,.s-skipped{background:#e1e1e1}.s-compensating{background:#f4d7b5}.s-pending{background:#f0f1f4}
.filters label{margin-right:1em}.notice{background:#fff6d6;border:1px solid #e8d58a;padding:.5em 1em;margin:.5em 1.5em}
.actions{display:flex;gap:.5em;flex-wrap:wrap;margin:.7em 0}form.action{display:inline-block}
button{padding:.3em .8em;border:1px solid #8a93a3;border-radius:4px;background:#fff;cursor:pointer}button[disabled]{opacity:.45;cursor:not-allowed}
.dag-box{overflow:auto;background:#fff;padding:.5em;border:1px solid #e3e6eb}
.dag .edge{fill:none;stroke:#8a93a3;stroke-width:1.5}.dag marker path{fill:#8a93a3}
.dag rect{fill:#fff;stroke:#8a93a3;stroke-width:1.5}.dag text{text-anchor:middle;font-size:12px}.dag .name{font-weight:600}.dag .status{fill:#4b5363;font-size:11px}
.dag [data-status=succeeded] rect{fill:#c9ecd3;stroke:#2f8f4e}.dag [data-status=failed] rect{fill:#f6c9c9;stroke:#a3262a}
.dag [data-status=running] rect{fill:#cfe0fb;stroke:#2d62c4}.dag [data-status=queued] rect{fill:#f3e7b8;stroke:#a8871c}
.dag [data-status=skipped] rect,.dag [data-status=cancelled] rect{fill:#e8e8e8;stroke:#999}.dag [data-status=pending] rect{fill:#f7f8fa}
.task{background:#fff;border:1px solid #e3e6eb;padding:.5em 1em;margin-bottom:1em}.task .form label{display:block;margin:.4em 0}
.timeline td.data{font-family:monospace;font-size:11px;color:#4b5363}
.gantt text{font-size:11px;fill:#4b5363}.gantt .label{font-size:12px;fill:#1d2330}.gantt .tick line,.gantt .lane{stroke:#eceef2}
.gantt .bar{stroke-width:1.2}.gantt .wait{fill:#e7d9a0}.gantt .wait.a-queued{fill:#f3e7b8;stroke:#a8871c;stroke-dasharray:3 2}
.gantt .a-succeeded .bar{fill:#c9ecd3;stroke:#2f8f4e}.gantt .a-failed .bar{fill:#f6c9c9;stroke:#a3262a}.gantt .a-retried .bar{fill:#f9dcc4;stroke:#c0642a}
.gantt .a-running .bar{fill:#cfe0fb;stroke:#2d62c4}.gantt .a-cancelled .bar{fill:#e8e8e8;stroke:#999}.gantt .open .bar{stroke-dasharray:5 3}
.legend .key{display:inline-block;width:1.4em;height:.8em;border:1px solid #8a93a3;border-radius:2px;margin:0 .2em 0 .8em;vertical-align:middle}
.key.a-succeeded{background:#c9ecd3}.key.a-retried{background:#f9dcc4}.key.a-failed{background:#f6c9c9}.key.a-running{background:#cfe0fb}.key.a-cancelled{background:#e8e8e8}.key.wait{background:#e7d9a0;height:.35em}
.failures{display:flex;gap:.8em;align-items:flex-end;margin:.3em 0 .6em}.failure-chart .slot{fill:#f0f1f4}
.failure-chart .b-succeeded{fill:#7cc895}.failure-chart .b-failed{fill:#d9534f}.failure-chart .b-other{fill:#b8bec8}
`;

export const js = `(() => {
  const live = document.body.dataset.live;
  if (!live) return;
  const state = document.getElementById("live-state");
  let source = null, poll = null, pending = false, again = false, lastRefresh = 0;
  // One refetch at a time; a change seen meanwhile refetches once more after it.
  async function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    do {
      again = false;
      try {
        const wait = 300 - (Date.now() - lastRefresh);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        lastRefresh = Date.now();
        const res = await fetch(location.href, { headers: { accept: "text/html" } });
        const doc = new DOMParser().parseFromString(await res.text(), "text/html");
        for (const el of document.querySelectorAll("[data-refresh]")) {
          const next = doc.getElementById(el.id);
          // A part with ticked runs stays as it is until they are acted on.
          if (next && !el.querySelector("input[type=checkbox]:checked")) el.replaceWith(next);
        }
        document.body.dataset.refreshed = String(lastRefresh);
      } catch (e) { /* the next event or poll tries again */ }
    } while (again);
    pending = false;
  }
  function startPolling() { if (!poll) poll = setInterval(refresh, 3000); }
  // An open bar of the Gantt chart (a running or queued attempt) grows: refetch every 2 s while one is shown.
  setInterval(() => { if (!document.hidden && document.querySelector("[data-open]")) refresh(); }, 2000);
  function stopPolling() { clearInterval(poll); poll = null; }
  function connect() {
    if (source) return;
    source = new EventSource("/events?run=" + encodeURIComponent(live));
    source.onopen = () => { stopPolling(); state.textContent = "live"; };
    // Connected: what changed since the page was read is fetched once.
    source.addEventListener("hello", refresh);
    source.addEventListener("change", (e) => { document.body.dataset.lastChange = e.data; refresh(); });
    source.onerror = () => { state.textContent = "polling"; startPolling(); };
  }
  function pause() { if (source) source.close(); source = null; stopPolling(); state.textContent = "paused"; }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) pause(); else { refresh(); connect(); }
  });
  if (!document.hidden) connect();
})();`;
