() => {
  // Runs once when the page loads (mount_gradio_app's js).
  //
  // An answer's [n] is a link to "#src-<turn>-<n>": the quote's <mark> in the
  // sources panel. Following it here instead of by the URL: open that answer's
  // group, scroll its passage and then the quote into view inside the panel,
  // and flash the quote.
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest('a[href^="#src-"]');
      const quote = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!quote) return;
      event.preventDefault();
      event.stopPropagation();
      const group = quote.closest("details");
      if (group) group.open = true;
      const source = quote.closest(".lsn-source") || quote;
      source.scrollIntoView({ block: "nearest" });
      quote.scrollIntoView({ block: "nearest" });
      const flash = quote.tagName === "MARK" ? quote : source;
      flash.classList.remove("lsn-flash");
      void flash.offsetWidth; // restart the animation
      flash.classList.add("lsn-flash");
    },
    true,
  );

  // The copy button: the Clipboard API where the page is a secure context,
  // else the old execCommand way (plain http on another host).
  window.lsnCopy = async (text) => {
    if (!text) return;
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const button = document.getElementById("lsn-copy");
    if (button) {
      button.classList.add("lsn-copied");
      setTimeout(() => button.classList.remove("lsn-copied"), 1500);
    }
  };
}
