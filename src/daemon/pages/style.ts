/** The pages' one stylesheet (served as /ui/v/VERSION/style.css). */
export const PAGE_CSS = `:root{--ink:#1d1d1b;--muted:#5d5d58;--line:#d9d9d2;--bg:#f6f6f4;--card:#fff;--ok:#176b2c;--bad:#a11d1d;--accent:#1f4f99;--warn:#8a5a00}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--ink)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#22252a;color:#fff}
header h1{font-size:1.1rem;margin:0;letter-spacing:.02em}
header nav{display:flex;gap:.2rem}
header nav a{color:#cfd6e3;text-decoration:none;padding:.25rem .7rem;border-radius:4px}
header nav a[aria-current=page]{background:#ffffff22;color:#fff}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-size:.85rem;font-weight:600;background:#ddd;color:#222}
.badge[data-state=unlocked]{background:#cfe9d6;color:var(--ok)}.badge[data-state=locked]{background:#f3d3d3;color:var(--bad)}
header .spacer{flex:1}
header #trust-now{color:#cfd6e3}
td.time{white-space:nowrap}
header button{font:inherit;padding:.2rem .9rem}
main{max-width:64rem;margin:1rem auto;padding:0 1rem}
section.view{display:none}section.view[data-active]{display:block}
.card{background:var(--card);border-radius:8px;box-shadow:0 1px 3px #0002;padding:1rem 1.2rem;margin-bottom:1rem}
.card h2{font-size:1.05rem;margin:0 0 .6rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.6rem}
.stat{border:1px solid var(--line);border-radius:6px;padding:.4rem .7rem}
.stat b{display:block;font-size:1.3rem}
.stat span{color:var(--muted);font-size:.85rem}
.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted)}
td.reasons{max-width:30rem;overflow-wrap:anywhere}
label{display:block;margin:.4rem 0 .15rem;font-weight:600;font-size:.9rem}
input[type=text],input[type=password],select{font:inherit;padding:.3rem .5rem;width:100%;max-width:30rem;border:1px solid #bbb;border-radius:4px}
fieldset{border:1px solid var(--line);border-radius:6px;margin:.6rem 0}
fieldset label{display:inline;font-weight:400;margin-right:1rem}
button{font:inherit;padding:.35rem 1.1rem;border-radius:4px;border:1px solid #888;background:#fff;cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button:disabled{opacity:.5;cursor:default}
.row{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin-top:.6rem}
.status{margin:.5rem 0 0;min-height:1.5em}
.status[data-state=ok]{color:var(--ok);font-weight:600}.status[data-state=failed]{color:var(--bad);font-weight:600}.status[data-state=busy]{color:var(--warn)}
video{width:320px;height:240px;background:#111;border-radius:6px;transform:scaleX(-1)}
.prompt{font-size:1.4rem;font-weight:700;color:var(--accent);margin:.4rem 0}
#stepup{border-left:5px solid var(--warn)}
#stepup[hidden]{display:none}
#trust-graph{width:100%;height:240px;display:block}
#trust-graph .axis{stroke:#999;stroke-width:1}
#trust-graph .grid{stroke:#e3e3de;stroke-width:1}
#trust-graph .threshold{stroke:var(--bad);stroke-dasharray:5 4;stroke-width:1}
#trust-graph .trust{fill:none;stroke:var(--accent);stroke-width:2}
#trust-graph circle.event{fill:#fff;stroke:var(--accent);stroke-width:2}
#trust-graph circle.event[data-event=lock]{stroke:var(--bad)}
#trust-graph text{font-size:11px;fill:var(--muted)}
ol.events{margin:.4rem 0 0;padding-left:1.4rem;font-size:.9rem}
ol.events li{margin:.2rem 0}
ol.events time{color:var(--muted);margin-right:.5rem}
.verify[data-ok=true]{color:var(--ok);font-weight:700}.verify[data-ok=false]{color:var(--bad);font-weight:700}
.hint{font-size:.85rem;color:var(--muted)}
`;
