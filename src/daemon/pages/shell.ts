/**
 * The one HTML document of the daemon's pages (GET /ui/). Its four views,
 * overview, unlock, enrol and audit, are sections shown by the address's
 * fragment (#overview, ...), so that the session token the page receives
 * stays in the memory of one document and never needs storing. Static:
 * everything the daemon says is put in by the page's script as text.
 */

/** The document, loading its assets from the versioned folder `base` (e.g. /ui/v/0123abcd/). */
export function pageHtml(base: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>bioseal</title>
<link rel="icon" href="${base}icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${base}style.css">
<script type="module" src="${base}app.js"></script>
</head>
<body data-session="unknown" data-token="absent">
<header>
<h1>bioseal</h1>
<span id="state-badge" class="badge" data-state="unknown">…</span>
<span id="trust-now" class="muted"></span>
<nav>
<a href="#overview" data-view="overview">Overview</a>
<a href="#unlock" data-view="unlock">Unlock</a>
<a href="#enrol" data-view="enrol">Enrol</a>
<a href="#audit" data-view="audit">Audit log</a>
</nav>
<span class="spacer"></span>
<button id="lock" type="button">Lock now</button>
</header>
<main>
<div id="stepup" class="card" hidden data-state="idle">
<h2>Step-up required</h2>
<p id="stepup-action"></p>
<p><b id="stepup-description"></b></p>
<div class="row">
<button id="stepup-face" type="button" class="primary">Face re-check (camera)</button>
<button id="stepup-passkey" type="button" class="primary">Touch your passkey</button>
<button id="stepup-cancel" type="button">Cancel</button>
</div>
<p id="stepup-hint" class="hint"></p>
<video id="stepup-video" muted playsinline hidden></video>
<p id="stepup-status" class="status" role="status"></p>
</div>

<section id="view-overview" class="view">
<div class="card">
<h2>Session</h2>
<div class="grid">
<div class="stat"><b id="ov-state">…</b><span>state</span></div>
<div class="stat"><b id="ov-trust">…</b><span>trust now</span></div>
<div class="stat"><b id="ov-threshold">…</b><span>locks below</span></div>
<div class="stat"><b id="ov-deadline">…</b><span>locks by decay at</span></div>
<div class="stat"><b id="ov-models">…</b><span>models loaded</span></div>
</div>
<p class="status"><span class="muted">Last change:</span> <span id="ov-last"></span></p>
</div>
<div class="card">
<h2>Trust over time</h2>
<svg id="trust-graph" viewBox="0 0 800 240" role="img" aria-label="trust score over time" data-events="0"></svg>
<p id="graph-note" class="hint">The line is the trust score, polled every second; dots are the events that moved it; the dashed line is the lock threshold.</p>
<ol id="events" class="events" reversed></ol>
</div>
<div class="card">
<h2>Loaded models</h2>
<table><thead><tr><th>name</th><th>sensitivity</th><th>unlocked with</th><th>loaded</th><th>inputs → outputs</th></tr></thead><tbody id="models"></tbody></table>
<p id="models-note" class="hint"></p>
</div>
</section>

<section id="view-unlock" class="view">
<div class="card">
<h2>Unlock a sealed model</h2>
<form id="unlock-form" autocomplete="off">
<label for="unlock-name">Name for the loaded model</label>
<input id="unlock-name" type="text" value="model" required>
<label for="unlock-path">Path of the sealed model (.bseal) on this machine</label>
<input id="unlock-path" type="text" required>
<label for="unlock-sensitivity">Sensitivity</label>
<select id="unlock-sensitivity"><option>public</option><option selected>internal</option><option>confidential</option><option>restricted</option></select>
<fieldset><legend>Unlock with (tick what the model's key slot needs)</legend>
<label><input type="checkbox" name="factor" value="passphrase" checked> recovery passphrase</label>
<label><input type="checkbox" name="factor" value="keyfile"> key file</label>
<label><input type="checkbox" name="factor" value="face"> face (camera)</label>
<p class="hint">A face slot always pairs the face with another factor (face &amp; key file, face &amp; recovery): tick both.</p>
</fieldset>
<div id="unlock-passphrase-row"><label for="unlock-passphrase">Recovery passphrase</label><input id="unlock-passphrase" type="password"></div>
<div id="unlock-keyfile-row" hidden><label for="unlock-keyfile">Key file (32 bytes; read here, sent once, not kept)</label><input id="unlock-keyfile" type="file"></div>
<div id="unlock-face-row" hidden><p class="hint">Three frames are taken from the camera when you press Unlock: look at it.</p><video id="unlock-video" muted playsinline hidden></video></div>
<div class="row"><button id="unlock-submit" type="submit" class="primary">Unlock</button></div>
</form>
<p id="unlock-status" class="status" role="status"></p>
</div>
</section>

<section id="view-enrol" class="view">
<div class="card">
<h2>Enrol a face (with a liveness challenge)</h2>
<p class="hint">bioseal draws a challenge at random (blink, turn left, turn right). Press Start, look at the camera, then do what it asks; about three seconds are filmed. Only a protected template is kept, never the images.</p>
<label for="face-name">Enrolment name</label>
<input id="face-name" type="text" value="default">
<p><label><input id="face-overwrite" type="checkbox"> replace an existing enrolment of this name (revokes it)</label></p>
<div class="row"><button id="face-challenge" type="button">Get a challenge</button><button id="face-start" type="button" class="primary" disabled>Start</button></div>
<p id="face-prompt" class="prompt" data-action=""></p>
<video id="face-video" muted playsinline hidden></video>
<p id="face-status" class="status" role="status"></p>
</div>
<div class="card">
<h2>Enrol a passkey</h2>
<p class="hint">Touch ID, Windows Hello, a phone or a security key. It must verify you (fingerprint, face or PIN) and support the PRF extension.</p>
<label for="passkey-name">Enrolment name</label>
<input id="passkey-name" type="text" value="default">
<p><label><input id="passkey-overwrite" type="checkbox"> replace an existing enrolment of this name (revokes it)</label></p>
<div class="row"><button id="passkey-register" type="button" class="primary">Register a passkey</button></div>
<p id="passkey-status" class="status" role="status"></p>
</div>
<div class="card">
<h2>Enrolments</h2>
<table><thead><tr><th>factor</th><th>name</th><th>id</th><th>created</th></tr></thead><tbody id="enrolments"></tbody></table>
</div>
</section>

<section id="view-audit" class="view">
<div class="card">
<h2>Audit log</h2>
<div class="row"><label for="audit-since">Since (ISO time, or 15m, 1h, 7d; empty for all)</label></div>
<div class="row"><input id="audit-since" type="text" value="1d"><button id="audit-refresh" type="button" class="primary">Show</button></div>
<p>Verification: <span id="audit-verify" class="verify" data-ok="">…</span></p>
<ul id="audit-findings"></ul>
<p id="audit-note" class="hint"></p>
<table><thead><tr><th>#</th><th>time</th><th>type</th><th>decision</th><th>subject</th><th>reasons</th></tr></thead><tbody id="audit-entries"></tbody></table>
</div>
</section>
<p id="global-status" class="status" role="status"></p>
</main>
</body>
</html>
`;
}
