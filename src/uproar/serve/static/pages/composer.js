// The Composer: as you type (debounced), the draft goes to /api/composer; the findings come
// back as UTF-16 spans and are drawn as <mark>s in a backdrop behind the transparent textarea.
// Everything is built with textContent, never innerHTML: the draft is shown, never parsed.
(function () {
  const form = document.getElementById("composer");
  const draft = document.getElementById("draft");
  const kind = document.getElementById("kind");
  const backdrop = document.getElementById("highlights");
  const list = document.getElementById("findings");
  const summary = document.getElementById("lint-summary");
  const counters = document.getElementById("counters");
  const threads = document.getElementById("threads");
  if (!form || !draft) return;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  let timer = null;
  let sent = 0;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function highlight(text, spans) {
    backdrop.replaceChildren();
    let at = 0;
    const inline = spans.filter((s) => !s.whole && s.end16 > s.start16)
      .sort((a, b) => a.start16 - b.start16);
    for (const s of inline) {
      const start = Math.max(at, s.start16);
      if (start >= s.end16) continue;
      backdrop.append(document.createTextNode(text.slice(at, start)));
      const mark = el("mark", "sev-" + s.severity, text.slice(start, s.end16));
      mark.dataset.rule = s.rule;
      mark.title = s.message;
      backdrop.append(mark);
      at = s.end16;
    }
    backdrop.append(document.createTextNode(text.slice(at) + "\n"));
  }

  function render(text, view) {
    highlight(text, view.spans);
    summary.textContent = view.errors + (view.errors === 1 ? " error" : " errors") + " · read as " + view.kind;
    list.replaceChildren(...view.spans.map((s) => {
      const li = el("li", "finding " + s.severity);
      li.dataset.rule = s.rule;
      li.append(el("span", "pill " + s.severity, s.severity), " ", el("code", "", s.rule), " ",
                s.message + (s.whole ? " (the whole draft)" : ""));
      if (s.suggestion) li.append(el("div", "muted", s.suggestion));
      return li;
    }));
    if (!view.spans.length && text.trim()) list.append(el("li", "ok", "The linter finds nothing."));
    counters.replaceChildren(...view.counts.map((c) => {
      const li = el("li", c.fits ? "fits" : "over", c.name + ": " + c.length + " / " + c.limit);
      li.dataset.platform = c.platform;
      return li;
    }));
    threads.replaceChildren(...view.threads.map((t) => {
      const box = el("div", "thread");
      box.dataset.platform = t.platform;
      box.append(el("h3", "", t.name + " · " + t.posts.length + (t.posts.length === 1 ? " post" : " posts")));
      if (t.error) box.append(el("p", "error", t.error));
      const ol = el("ol", "thread-posts");
      for (const p of t.posts) {
        const li = el("li", "thread-post");
        li.append(el("div", "text", p.text), el("div", "muted", p.length + " / " + t.limit));
        ol.append(li);
      }
      box.append(ol);
      return box;
    }));
  }

  async function check() {
    const text = draft.value;
    const mine = ++sent;
    if (!text.trim()) {
      render(text, { spans: [], counts: [], threads: [], errors: 0, kind: "-" });
      return;
    }
    const response = await fetch(form.dataset.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({ text: text, kind: kind.value || null }),
      credentials: "same-origin",
    });
    if (mine !== sent) return; // a newer check is on its way
    if (!response.ok) {
      let message = response.statusText;
      try { message = (await response.json()).error; } catch (err) { /* keep the status */ }
      summary.textContent = "could not check: " + message;
      return;
    }
    render(text, await response.json());
  }

  function later() {
    backdrop.replaceChildren(document.createTextNode(draft.value + "\n"));
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }
  draft.addEventListener("input", later);
  kind.addEventListener("change", later);
  draft.addEventListener("scroll", () => { backdrop.scrollTop = draft.scrollTop; });
  form.addEventListener("submit", (event) => {
    // "Post to the drill" (in a drill store) sends the draft; any other submit re-checks it
    if (event.submitter && event.submitter.id === "post-to-drill") return;
    event.preventDefault();
    check();
  });
  if (draft.value) check();
})();
