// Helpers shared by the pages; every untrusted string goes through textContent.
"use strict";
window.advisorUI = {
  el: function (tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  },
  // Markdown markers out, bullets kept: a passage reads as text.
  readable: function (text) {
    return text.replace(/\*\*/g, "").replace(/^(\s*)[*-] +/gm, "$1• ");
  },
};
