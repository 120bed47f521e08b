// ?print=1: print the receipt as soon as it is laid out (also inside the till's hidden frame).
window.addEventListener("load", function () {
  "use strict";
  setTimeout(function () { window.print(); }, 50);
});
