// mentorflow: progressive enhancement only; every page works without it.
// 1. Forms of an instance page (events: add a plan item, change its status,
//    send for agreement) are sent in the background and the page's content
//    is replaced by the server's answer: no reload, the same HTML and the
//    same Russian messages as without JavaScript.
// 2. A table with a search field (data-filter) is filtered as one types.
'use strict';
(function () {
  function swapMain(html, url) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var fresh = doc.querySelector('main');
    var main = document.querySelector('main');
    if (!fresh || !main) { window.location.assign(url); return; }
    main.innerHTML = fresh.innerHTML;
    if (doc.title) document.title = doc.title;
    if (url && url !== window.location.href) window.history.replaceState(null, '', url);
    var focus = main.querySelector('.field-error, .error, .notice');
    if (focus) {
      focus.setAttribute('tabindex', '-1');
      focus.focus();
    }
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains('event')) return;
    if (!window.fetch || !window.DOMParser) return;
    event.preventDefault();
    if (form.hasAttribute('data-busy')) return;
    form.setAttribute('data-busy', '');
    fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(new FormData(form)),
      credentials: 'same-origin',
      redirect: 'follow'
    }).then(function (response) {
      return response.text().then(function (text) { swapMain(text, response.url); });
    }).catch(function () {
      form.removeAttribute('data-busy');
      form.submit();  // the network failed: let the browser try itself
    });
  });

  document.addEventListener('input', function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.filter) return;
    var table = document.getElementById(input.dataset.filter);
    if (!table) return;
    var needle = input.value.trim().toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.hidden = needle !== '' && row.textContent.toLowerCase().indexOf(needle) < 0;
    });
  });
})();
