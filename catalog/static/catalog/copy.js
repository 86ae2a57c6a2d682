// The admin's "Copy" buttons: a button with data-copy-target copies the text of the element it
// names, and says in the element named by data-copy-status whether that worked.
"use strict";
(function () {
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain HTTP to another host has no Clipboard API: copy a selection instead.
    return new Promise(function (resolve, reject) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const copied = document.execCommand("copy");
      area.remove();
      if (copied) resolve();
      else reject(new Error("the browser refused to copy"));
    });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copyTarget);
    const status = document.getElementById(button.dataset.copyStatus);
    copyText(source.textContent.trim()).then(
      function () {
        status.textContent = "Copied to the clipboard.";
      },
      function () {
        status.textContent = "The browser did not allow copying: select the text and copy it.";
      }
    );
  });
})();
