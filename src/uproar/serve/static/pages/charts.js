// Draws every chart on the page: a <div data-chart="ID"> takes its Vega-Lite spec from the
// <script type="application/json" id="ID"> data block beside it. Expressions are evaluated by
// vega-interpreter, never compiled with `new Function`, so the strict CSP holds.
import { expressionInterpreter } from "/static/vendor/vega-interpreter.js";

const options = {
  actions: false,
  renderer: "canvas", // no style attributes: the CSP allows styles from our stylesheet only
  ast: true,
  expr: expressionInterpreter,
  defaultStyle: false,
  // vega-tooltip would inject a <style> element; its look is in pages.css instead
  tooltip: { disableDefaultStyle: true },
};

function embedAll(root) {
  if (!window.vegaEmbed) return;
  root.querySelectorAll("[data-chart]").forEach((el) => {
    const block = document.getElementById(el.dataset.chart);
    if (!block || el.dataset.drawn === "1") return;
    let spec;
    try {
      spec = JSON.parse(block.textContent);
    } catch (err) {
      el.textContent = "This chart's data could not be read.";
      return;
    }
    el.dataset.drawn = "1";
    window.vegaEmbed(el, spec, options).then(
      () => el.classList.add("drawn"),
      (err) => { el.textContent = "The chart could not be drawn: " + err.message; }
    );
  });
}

embedAll(document);
document.body.addEventListener("htmx:afterSwap", (event) => embedAll(event.detail.target));
