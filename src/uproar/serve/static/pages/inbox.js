// The inbox's Copy buttons: posting to the platforms stays with people, so a reply is copied.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const area = document.querySelector(button.dataset.copy);
  if (!area) return;
  const done = () => { button.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(area.value).then(done, () => { area.select(); });
  } else {
    area.select();
    document.execCommand("copy");
    done();
  }
});
