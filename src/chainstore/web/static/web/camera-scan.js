/* Phone-camera scanning for any scan field.
 *
 *   <button type="button" data-camera-for="INPUT_ID" data-camera-box="BOX_ID"
 *           data-camera-error="message">…</button>
 *   <div id="BOX_ID" hidden></div>
 *
 * A decoded barcode is written into the input and its form is submitted, exactly as a USB
 * wedge scanner does with Enter (so htmx forms post as usual). Uses html5-qrcode (npm).
 */
(function () {
  "use strict";
  var active = null;

  function stop() {
    var current = active;
    active = null;
    if (!current) return Promise.resolve();
    current.box.hidden = true;
    return current.reader.stop().catch(function () {}).then(function () {
      try { current.reader.clear(); } catch (e) { /* already cleared */ }
    });
  }

  function start(button) {
    var input = document.getElementById(button.dataset.cameraFor);
    var box = document.getElementById(button.dataset.cameraBox);
    var fail = function () { stop(); window.alert(button.dataset.cameraError || "Camera unavailable"); };
    if (!input || !box || typeof window.Html5Qrcode === "undefined") { fail(); return; }
    if (active) { stop(); return; }  // the button toggles
    box.hidden = false;
    var formats = window.Html5QrcodeSupportedFormats || {};
    var reader = new window.Html5Qrcode(box.id, {
      verbose: false,
      useBarCodeDetectorIfSupported: true,
      formatsToSupport: [formats.EAN_13, formats.EAN_8, formats.UPC_A, formats.UPC_E,
        formats.CODE_128, formats.DATA_MATRIX, formats.QR_CODE, formats.ITF, formats.CODE_39]
        .filter(function (f) { return f !== undefined; }),
    });
    active = { reader: reader, box: box };
    reader.start(
      { facingMode: "environment" },
      { fps: 10, qrbox: function (w, h) { return { width: Math.floor(w * 0.8), height: Math.floor(h * 0.5) }; } },
      function (text) {
        stop().then(function () {
          input.value = text;
          if (input.form) { input.form.requestSubmit(); }
        });
      },
      function () { /* no code in this frame */ }
    ).catch(fail);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-camera-for]");
    if (!button) return;
    event.preventDefault();
    start(button);
  });
})();
