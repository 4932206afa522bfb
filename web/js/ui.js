// Small DOM helpers shared by the page's modules.

export const $ = (id) => document.getElementById(id);

/** Text element: el('li', 'class names', 'text'). Never parses HTML. */
export function el(tag, className = '', text = '') {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

/**
 * Shows an error in plain words at the top of the page, dismissable; the
 * same message twice in a row is shown once. Also logged for developers.
 */
export function showError(err) {
  const text = err?.message || String(err);
  console.warn(text, err);
  const box = $('alerts');
  if (box.lastElementChild?.dataset.text === text) return;
  const item = el('div', 'alert');
  item.dataset.text = text;
  item.append(el('span', 'alert-text', text));
  const close = el('button', 'ghost small', 'Dismiss');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss this message');
  close.addEventListener('click', () => item.remove());
  item.append(close);
  box.append(item);
  while (box.children.length > 3) box.firstElementChild.remove();
}

export function clearErrors() { $('alerts').replaceChildren(); }
