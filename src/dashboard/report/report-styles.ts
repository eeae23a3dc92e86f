/** The report's stylesheet, inlined so the file opens anywhere with no network. Mirrors static/style.css. */
export const REPORT_CSS = `
:root { --ink:#1f2328; --muted:#656d76; --faint:#8c959f; --line:#d0d7de; --soft:#eaeef2; --bg:#f6f8fa; --keep:#1a7f37; --crash:#cf222e; --timeout:#9a6700; --invalid:#8250df; --running:#0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 28px 64px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 12px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.sub { color: var(--muted); margin: 0 0 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; margin-bottom: 18px; break-inside: avoid; }
.figure svg { display: block; max-width: 100%; height: auto; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-bottom: 18px; }
.stat { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.stat .label { font-size: 11.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.stat .value { font-size: 21px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .note { font-size: 12px; color: var(--muted); }
.good { color: var(--keep); }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; padding: 7px 9px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 6px 9px; border-bottom: 1px solid var(--soft); vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.desc { overflow-wrap: anywhere; }
tr.st-discard td { color: #57606a; }
tr.not-needed td { color: #57606a; font-style: italic; }
tr.st-keep td.metric { color: var(--keep); font-weight: 600; }
.reason { color: var(--muted); font-size: 12px; }
.flag { color: var(--timeout); font-size: 12px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 11.5px; line-height: 18px; white-space: nowrap; background: #eff2f5; color: #57606a; }
.badge.keep, .badge.done, .badge.accepted, .badge.merge_accepted { background: #dafbe1; color: var(--keep); }
.badge.crash, .badge.failed, .badge.rejected, .badge.merge_rejected { background: #ffebe9; color: var(--crash); }
.badge.timeout, .badge.paused { background: #fff8c5; color: var(--timeout); }
.badge.invalid { background: #fbefff; color: var(--invalid); }
.badge.running { background: #ddf4ff; color: var(--running); }
details { border-top: 1px solid var(--soft); padding: 6px 0; }
summary { cursor: pointer; }
pre { background: var(--bg); border: 1px solid var(--soft); border-radius: 6px; padding: 10px 12px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: 8px 0; }
pre.diff { padding: 0; }
pre.diff span { display: block; padding: 0 12px; }
pre.diff .add { background: #e6ffec; }
pre.diff .del { background: #ffebe9; }
pre.diff .hunk { background: #ddf4ff; color: var(--muted); }
pre.diff .file { background: var(--bg); font-weight: 600; border-bottom: 1px solid var(--line); }
footer { color: var(--faint); font-size: 12px; margin-top: 28px; }
@media print { body { background: #fff; } .card, .stat { border-color: #ccc; } }
`;
