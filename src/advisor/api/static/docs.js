// Starts Swagger UI on /docs (a file, not an inline script: the page runs under
// Content-Security-Policy default-src 'self').
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,  // the public validator would be a request off this machine
    presets: [SwaggerUIBundle.presets.apis],
  });
});
