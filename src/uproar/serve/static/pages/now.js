// Keeps the Now page current: listens to /events (server-sent events) and, on each change,
// asks htmx to reload the panel (the "uproar:change" trigger on #now-panel).
(function () {
  const status = document.getElementById("live-status");
  if (!status || !window.EventSource) return;
  let timer = null;
  let note = ""; // the latest incident news stays shown while posts keep arriving
  function show(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }
  const source = new EventSource("/events");
  source.addEventListener("open", () => show("live", "live"));
  source.addEventListener("error", () => show("reconnecting", "reconnecting…"));
  source.addEventListener("problem", (event) => {
    let problem = {};
    try { problem = JSON.parse(event.data); } catch (err) { return; }
    show("reconnecting", "store busy: " + (problem.error || "retrying"));
  });
  source.addEventListener("change", (event) => {
    let change = {};
    try { change = JSON.parse(event.data); } catch (err) { return; }
    const news = [];
    if (change.opened && change.opened.length) news.push("opened: " + change.opened.join(", "));
    if (change.closed && change.closed.length) news.push("resolved: " + change.closed.join(", "));
    if (news.length) note = news.join(" · ");
    const parts = [];
    if (change.new_posts > 0) parts.push(change.new_posts + " new posts");
    if (note) parts.push(note);
    show("live", "live" + (parts.length ? " · " + parts.join(" · ") : ""));
    // Coalesce bursts: one panel reload for changes that arrive close together.
    clearTimeout(timer);
    timer = setTimeout(() => document.body.dispatchEvent(new Event("uproar:change")), 300);
  });
  window.addEventListener("pagehide", () => source.close());
})();
