// Counselors' reference: passage search, a career's sections, two careers side by side.
"use strict";
(function () {
  const el = window.advisorUI.el, readable = window.advisorUI.readable;
  function link(url, label) {
    const a = el("a", "", label);
    a.href = url; a.target = "_blank"; a.rel = "noopener";
    return a;
  }
  async function getJSON(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  }

  getJSON("/api/careers").then(function (careers) {
    const lists = ["career", "read", "cmp-a", "cmp-b"].map(function (id) {
      return document.getElementById(id);
    });
    careers.forEach(function (c) {
      lists.forEach(function (select) {
        const option = el("option", "", c.title);
        option.value = c.id;
        select.appendChild(option);
      });
    });
    const b = document.getElementById("cmp-b");
    if (b.options.length > 1) b.selectedIndex = 1;
  });

  document.getElementById("search").addEventListener("submit", async function (event) {
    event.preventDefault();
    const results = document.getElementById("results");
    const career = document.getElementById("career").value;
    results.replaceChildren(el("li", "", "Searching…"));
    try {
      const body = await getJSON("/api/search", {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({query: document.getElementById("q").value, k: 10,
          career: career || null})});
      results.replaceChildren();
      body.results.forEach(function (r) {
        const item = el("li");
        item.appendChild(el("strong", "", r.title + " › " + r.heading_path.join(" › ")));
        item.appendChild(el("div", "", readable(r.text)));
        if (r.url) item.appendChild(link(r.url, "Public page"));
        results.appendChild(item);
      });
      if (!body.results.length) results.appendChild(el("li", "", "No passages found."));
    } catch (err) {
      results.replaceChildren(el("li", "", "Search failed: " + err.message));
    }
  });

  document.getElementById("read-go").addEventListener("click", async function () {
    const box = document.getElementById("sections");
    try {
      const body = await getJSON("/api/careers/" +
        encodeURIComponent(document.getElementById("read").value));
      box.replaceChildren();
      body.sections.forEach(function (s) {
        const part = el("details");
        part.appendChild(el("summary", "", s.path.join(" › ") || body.title));
        part.appendChild(el("blockquote", "", readable(s.text)));
        if (s.url) part.appendChild(link(s.url, "Public page"));
        box.appendChild(part);
      });
    } catch (err) {
      box.replaceChildren(el("p", "", "Could not load the career: " + err.message));
    }
  });

  document.getElementById("compare").addEventListener("submit", async function (event) {
    event.preventDefault();
    const table = document.getElementById("comparison");
    const a = document.getElementById("cmp-a").value, b = document.getElementById("cmp-b").value;
    try {
      const body = await getJSON("/api/compare?a=" + encodeURIComponent(a) + "&b=" +
        encodeURIComponent(b));
      document.getElementById("cmp-a-title").textContent = body.careers[0].title;
      document.getElementById("cmp-b-title").textContent = body.careers[1].title;
      const rows = table.querySelector("tbody");
      rows.replaceChildren();
      body.aspects.forEach(function (aspect) {
        const tr = el("tr");
        tr.appendChild(el("th", "", aspect.aspect.replace("_", " ")));
        aspect.sections.forEach(function (s) {
          tr.appendChild(el("td", "", s ? readable(s.text) : "(not described)"));
        });
        rows.appendChild(tr);
      });
      table.hidden = false;
    } catch (err) {
      table.hidden = true;
      alert("Could not compare: " + err.message);
    }
  });
})();
