// Students' chat: streams answers over server-sent events; every untrusted string goes
// through textContent, never innerHTML.
"use strict";
(function () {
  const el = window.advisorUI.el, readable = window.advisorUI.readable;
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const history = [];  // the conversation, kept in the browser only
  // The most turns the server reads (ADVISOR_API__MAX_HISTORY_TURNS), from the page.
  const maxHistory = Number(form.dataset.maxHistory) || 0;


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

  function renderCitations(box, citations) {
    box.replaceChildren();
    citations.forEach(function (c) {
      const b = el("button", "cite", "[" + c.number + "] " + c.title + " › " +
        (c.heading_path[c.heading_path.length - 1] || ""));
      b.type = "button";
      b.addEventListener("click", function () { showPassage(c); });
      box.appendChild(b);
    });
  }

  function feedbackButtons(bubble, token) {
    if (!token) return;  // the log is off: no votes are kept
    const row = el("div", "feedback");
    [["up", "Helpful"], ["down", "Not helpful"]].forEach(function (pair) {
      const b = el("button", "", pair[1]);
      b.type = "button";
      b.addEventListener("click", function () {
        fetch("/api/feedback", {method: "POST", headers: {"Content-Type": "application/json"},
          body: JSON.stringify({feedback_token: token, rating: pair[0]})});
        row.replaceChildren(el("span", "", "Thanks for the feedback."));
      });
      row.appendChild(b);
    });
    bubble.appendChild(row);
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

  async function ask(question) {
    const intro = log.querySelector(".intro");
    if (intro) intro.remove();
    log.appendChild(el("div", "msg user", question));
    const bubble = el("div", "msg bot");
    bubble.setAttribute("aria-busy", "true");
    const text = el("div", "answer", "…");
    const cites = el("div", "cites");
    bubble.append(text, cites);
    log.appendChild(bubble);
    bubble.scrollIntoView({block: "end"});
    send.disabled = true;
    let answer = "";
    const recent = maxHistory ? history.slice(-maxHistory) : [];  // slice(-0) would keep all
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: {"Content-Type": "application/json", "Accept": "text/event-stream"},
        body: JSON.stringify({question: question, history: recent, stream: true}),
      });
      if (response.status === 503) {
        const wait = response.headers.get("Retry-After") || "a few";
        bubble.className = "msg notice";
        text.textContent = "The advisor is busy answering other students. Please try again in " +
          wait + " seconds.";
        return;
      }
      if (!response.ok) {
        const body = await response.json().catch(function () { return {}; });
        bubble.className = "msg error";
        text.textContent = "Sorry, that did not work: " + (body.detail || response.statusText);
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      text.textContent = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer = parseEvents(buffer + decoder.decode(chunk.value, {stream: true}),
          function (name, data) {
            if (name === "sources") renderCitations(cites, data.citations);
            else if (name === "token") { answer += data.text; text.textContent = answer; }
            else if (name === "error") bubble.dataset.note = data.message;
            else if (name === "done") {
              answer = data.answer;
              text.textContent = answer;  // the final, checked text
              renderCitations(cites, data.citations);
              if (data.refused) bubble.className = "msg bot notice";
              feedbackButtons(bubble, data.feedback_token);
            }
          });
      }
      history.push({role: "user", content: question}, {role: "assistant", content: answer});
    } catch (err) {
      bubble.className = "msg error";
      text.textContent = "Sorry, the advisor could not be reached. Please try again.";
    } finally {
      bubble.removeAttribute("aria-busy");
      send.disabled = false;
      bubble.scrollIntoView({block: "end"});
      input.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  document.querySelectorAll(".starter").forEach(function (b) {
    b.addEventListener("click", function () { ask(b.textContent); });
  });
  document.getElementById("reset").addEventListener("click", function () {
    history.length = 0;
    log.replaceChildren();
    input.focus();
  });
})();
