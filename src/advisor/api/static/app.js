// Students' chat: streams answers over server-sent events; every untrusted string goes
// through textContent, never innerHTML. Questions asked while an answer streams wait their
// turn in a queue, so each one is sent with the exchanges before it as its history.
"use strict";
(function () {
  const el = window.advisorUI.el, readable = window.advisorUI.readable;
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const maxTurns = Number(form.dataset.maxTurns) || 20;
  const maxChars = Number(form.dataset.maxChars) || 16000;
  const history = [];  // the conversation, kept in the browser only
  const queue = [];    // questions waiting for the answer before them
  let busy = false;
  let conversation = 0;  // "New conversation" bumps it: a late answer of an old one is dropped
  let inFlight = null;   // AbortController of the answer streaming now

  // Career display names (GET /api/careers), fetched once; chips fall back to citation titles.
  let careerNames = null;
  function names() {
    if (!careerNames) {
      careerNames = fetch("/api/careers")
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (list) {
          const out = {};
          list.forEach(function (c) { out[c.id] = c.name || c.title; });
          return out;
        })
        .catch(function () { careerNames = null; return {}; });
    }
    return careerNames;
  }

  function showPassage(c) {
    const box = document.getElementById("passage");
    document.getElementById("passage-title").textContent = "[" + c.number + "] " + c.title;
    document.getElementById("passage-path").textContent = c.heading_path.join(" › ");
    document.getElementById("passage-text").textContent = readable(c.text);
    const link = document.getElementById("passage-link");
    if (c.url) { link.href = c.url; link.hidden = false; } else { link.hidden = true; }
    box.hidden = false;
    box.focus();
  }
  document.getElementById("close-passage").addEventListener("click", function () {
    document.getElementById("passage").hidden = true;
    input.focus();
  });

  function citeButton(c, label, cls) {
    const b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", function () { showPassage(c); });
    return b;
  }

  // Text with its [n] markers turned into buttons that open passage n.
  function renderText(box, text, citations) {
    const byNumber = {};
    citations.forEach(function (c) { byNumber[c.number] = c; });
    box.replaceChildren();
    const markers = /\[(\d+)\]/g;
    let at = 0, m;
    text = readable(text);
    while ((m = markers.exec(text)) !== null) {
      const c = byNumber[m[1]];
      if (!c) continue;
      if (m.index > at) box.appendChild(document.createTextNode(text.slice(at, m.index)));
      const marker = citeButton(c, m[0], "marker");
      marker.setAttribute("aria-label", "Source " + c.number + ": " + c.title);
      box.appendChild(marker);
      at = m.index + m[0].length;
    }
    if (at < text.length) box.appendChild(document.createTextNode(text.slice(at)));
  }

  function renderCitations(box, citations) {
    box.replaceChildren();
    if (citations.length) box.appendChild(el("span", "chips-label", "Sources:"));
    citations.forEach(function (c) {
      box.appendChild(citeButton(c, "[" + c.number + "] " + c.title + " › " +
        (c.heading_path[c.heading_path.length - 1] || ""), "cite"));
    });
  }

  function renderDetails(details, citations) {
    const box = el("details", "more");
    box.appendChild(el("summary", "", "More from the documents"));
    const list = el("ul");
    details.forEach(function (d) {
      const item = el("li");
      renderText(item, d.text + " [" + d.citation + "]", citations);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function chips(cls, label, questions) {
    const box = el("div", "chips " + cls);
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", label);
    const caption = el("span", "chips-label", label);
    caption.setAttribute("aria-hidden", "true");
    box.appendChild(caption);
    questions.forEach(function (q) {
      const b = el("button", "chip", q);
      b.type = "button";
      b.addEventListener("click", function () { submit(q); });
      box.appendChild(b);
    });
    return box;
  }

  function careerName(id, table, citations) {
    if (table[id]) return table[id];
    const c = citations.find(function (x) { return x.doc_id === id; });
    return c ? c.title.replace(/^\s*\d+[.)]\s*/, "") : id;
  }

  function feedbackButtons(bubble, token) {
    if (!token) return;  // the log is off: no votes are kept
    const row = el("div", "feedback");
    [["up", "Helpful"], ["down", "Not helpful"]].forEach(function (pair) {
      const b = el("button", "", pair[1]);
      b.type = "button";
      b.addEventListener("click", async function () {
        row.replaceChildren(el("span", "", "Sending…"));
        try {
          const response = await fetch("/api/feedback", {method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({feedback_token: token, rating: pair[0]})});
          row.replaceChildren(el("span", "", response.ok ? "Thanks for the feedback."
            : "The feedback could not be saved."));
        } catch (err) {
          row.replaceChildren(el("span", "", "The feedback could not be sent."));
        }
      });
      row.appendChild(b);
    });
    bubble.appendChild(row);
  }

  async function finish(bubble, parts, data) {
    // `done` never replaces text already shown: the streamed tokens are the answer.
    if (data.refused) bubble.classList.add("notice");
    bubble.dataset.kind = data.kind || "";
    bubble.dataset.mode = data.mode || "";
    if (data.query_id) bubble.dataset.queryId = data.query_id;
    (data.notices || []).forEach(function (n) { parts.notes.appendChild(el("p", "note", n)); });
    const citations = data.citations || [];
    renderText(parts.text, parts.shown, citations);
    if ((data.careers || []).length) {
      const table = await names();
      bubble.insertBefore(chips("careers", "Careers to look at:",
        data.careers.map(function (id) {
          return "Tell me more about " + careerName(id, table, citations);
        })), parts.cites);
    }
    if ((data.details || []).length) {
      bubble.insertBefore(renderDetails(data.details, citations), parts.cites);
    }
    renderCitations(parts.cites, citations);
    if ((data.suggestions || []).length) {
      bubble.appendChild(chips("suggestions", "Ask next:", data.suggestions));
    }
    feedbackButtons(bubble, data.feedback_token);
    bubble.dataset.done = "true";
  }

  function parseEvents(buffer, onEvent) {
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      });
      if (data) onEvent(name, JSON.parse(data));
    }
    return buffer;
  }

  // The last turns that fit the server's limits (turn count and characters).
  function recentHistory() {
    const out = [];
    let chars = 0;
    for (let i = history.length - 1; i >= 0 && out.length < maxTurns; i--) {
      chars += history[i].content.length;
      if (chars > maxChars) break;
      out.unshift(history[i]);
    }
    return out;
  }

  async function ask(item) {
    const bubble = item.bubble, question = item.question, mine = conversation;
    item.user.classList.remove("queued");
    bubble.classList.remove("queued");
    bubble.setAttribute("aria-busy", "true");
    const parts = {text: el("div", "answer", "…"), notes: el("div", "notes"),
      cites: el("div", "cites"), shown: ""};
    bubble.replaceChildren(parts.text, parts.notes, parts.cites);
    let citations = [], final = null;
    inFlight = new AbortController();
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        signal: inFlight.signal,
        headers: {"Content-Type": "application/json", "Accept": "text/event-stream"},
        body: JSON.stringify({question: question, history: recentHistory(), stream: true}),
      });
      if (response.status === 503) {
        const wait = response.headers.get("Retry-After") || "a few";
        bubble.className = "msg notice";
        parts.text.textContent = "The advisor is busy answering other students. Please try " +
          "again in " + wait + " seconds.";
        return;
      }
      if (!response.ok) {
        const body = await response.json().catch(function () { return {}; });
        bubble.className = "msg error";
        parts.text.textContent = "Sorry, that did not work: " +
          (typeof body.detail === "string" ? body.detail : response.statusText);
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      parts.text.textContent = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer = parseEvents(buffer + decoder.decode(chunk.value, {stream: true}),
          function (name, data) {
            if (name === "sources") citations = data.citations;
            else if (name === "token") {
              parts.shown += data.text;
              renderText(parts.text, parts.shown, citations);
            } else if (name === "error") parts.notes.appendChild(el("p", "note", data.message));
            else if (name === "done") final = data;
          });
      }
      if (final && mine === conversation) {
        // Only a final answer that adds to what was shown is appended (e.g. no tokens came).
        if (final.answer.startsWith(parts.shown)) parts.shown = final.answer;
        await finish(bubble, parts, final);
        history.push({role: "user", content: question},
          {role: "assistant", content: final.answer});
      } else if (!final) {
        parts.notes.appendChild(el("p", "note", "The answer was cut off. Please ask again."));
      }
    } catch (err) {
      if (mine !== conversation) return;
      bubble.className = "msg error";
      parts.text.textContent = "Sorry, the advisor could not be reached. Please try again.";
    } finally {
      inFlight = null;
      bubble.removeAttribute("aria-busy");
    }
  }

  async function pump() {
    if (busy) return;
    busy = true;
    send.textContent = "Ask next";
    while (queue.length) {
      const item = queue.shift();
      await ask(item);
      item.bubble.scrollIntoView({block: "nearest"});
    }
    busy = false;
    send.textContent = "Ask";
  }

  function submit(question) {
    const intro = log.querySelector(".intro");
    if (intro) intro.remove();
    const user = el("div", "msg user", question);
    const bubble = el("div", "msg bot");
    if (busy) {
      user.dataset.waited = "true";
      user.classList.add("queued");
      bubble.classList.add("queued");
      bubble.appendChild(el("div", "answer", "Waits for the answer above…"));
    }
    log.append(user, bubble);
    bubble.scrollIntoView({block: "nearest"});
    queue.push({question: question, user: user, bubble: bubble});
    pump();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    submit(question);
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends through the same queue as the button, never around it.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.querySelectorAll(".starter").forEach(function (b) {
    b.addEventListener("click", function () { submit(b.textContent); });
  });
  document.getElementById("reset").addEventListener("click", function () {
    conversation += 1;
    queue.length = 0;
    history.length = 0;
    if (inFlight) inFlight.abort();
    log.replaceChildren();
    input.focus();
  });
  names();
})();
